import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * Migrations in code, named so they sort in order; written with Kysely's schema builder in types
 * both SQLite and PostgreSQL accept. Never edit a released migration: add the next one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-registry-state-history': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('units')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('board', 'text')
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('site_name', 'text')
        .addColumn('site_lat', 'double precision')
        .addColumn('site_lon', 'double precision')
        .addColumn('grid_cell', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('claim_code_hash', 'text')
        .addColumn('claim_expires_at', 'bigint')
        .addColumn('claimed_at', 'bigint')
        .addColumn('secret_hash', 'text')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('unit_state')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('presence', 'text')
        .addColumn('power', 'text')
        .addColumn('location', 'text')
        .addColumn('link', 'text')
        .addColumn('last_seen', 'bigint')
        .addColumn('deployment_lat', 'double precision')
        .addColumn('deployment_lon', 'double precision')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('power_history')
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('soc', 'double precision', (c) => c.notNull())
        .addColumn('battery_v', 'double precision', (c) => c.notNull())
        .addColumn('solar_w', 'double precision', (c) => c.notNull())
        .addColumn('wind_w', 'double precision', (c) => c.notNull())
        .addColumn('load_w', 'double precision', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        // Event time is the key: a reading re-sent after an outage lands once, in its place.
        .addPrimaryKeyConstraint('power_history_pk', ['unit_id', 'ts'])
        .execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
    },
  },
  '0002-commissioning': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('commissioning')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('passed', 'integer', (c) => c.notNull())
        .addColumn('items', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('commissioning_unit').on('commissioning').columns(['unit_id', 'requested_at']).execute();
    },
  },
  '0003-data-budget': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('units').addColumn('data_budget_bytes', 'bigint').execute();
    },
  },
  '0004-audit-log': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('unit_id', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('actor_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('message', 'text')
        .execute();
      await db.schema.createIndex('audit_log_unit').on('audit_log').columns(['unit_id', 'at']).execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
