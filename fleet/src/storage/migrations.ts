import { type Kysely, PostgresAdapter, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * Migrations in code, named so they sort in order; written with Kysely's schema builder in types
 * both SQLite and PostgreSQL accept. Never edit a released migration: add the next one.
 */
const STAGE_ORDER = "case kind when 'yellow' then 1 when 'red' then 2 else 3 end";

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
  '0005-alarms-tickets': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('alarm_inbox')
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('alarm_inbox_pk', ['unit_id', 'seq'])
        .execute();
      await db.schema
        .createTable('alarms')
        .addColumn('episode', 'text', (c) => c.primaryKey())
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('raised_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('cleared_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('late', 'integer', (c) => c.notNull())
        .addColumn('repeats', 'integer', (c) => c.notNull())
        .addColumn('chatter', 'integer', (c) => c.notNull())
        .addColumn('inhibited_by', 'text')
        .addColumn('acked_by', 'text')
        .addColumn('acked_at', 'bigint')
        .addColumn('shelved_until', 'bigint')
        .addColumn('shelved_by', 'text')
        .addColumn('shelve_reason', 'text')
        .addColumn('lat', 'double precision')
        .addColumn('lon', 'double precision')
        .addColumn('value', 'double precision')
        .addColumn('message', 'text')
        .addColumn('ticket_id', 'text')
        .addColumn('district', 'text')
        .execute();
      await db.schema.createIndex('alarms_unit_kind').on('alarms').columns(['unit_id', 'kind', 'raised_at']).execute();
      await db.schema.createIndex('alarms_state').on('alarms').columns(['state', 'raised_at']).execute();
      await db.schema.createIndex('alarms_district_received').on('alarms').columns(['district', 'received_at']).execute();
      await db.schema
        .createTable('alarm_occurrences')
        .addColumn('fingerprint', 'text', (c) => c.primaryKey())
        .addColumn('episode', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('alarm_comments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('episode', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alarm_comments_episode').on('alarm_comments').columns(['episode', 'at']).execute();
      await db.schema
        .createTable('tickets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('alarm_kind', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('cell', 'text')
        .addColumn('community', 'text')
        .addColumn('street', 'text')
        .addColumn('district', 'text')
        .addColumn('team', 'text')
        .addColumn('department', 'text')
        .addColumn('dispatcher', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('deadline_at', 'bigint', (c) => c.notNull())
        .addColumn('yellow_at', 'bigint', (c) => c.notNull())
        .addColumn('escalate_at', 'bigint', (c) => c.notNull())
        .addColumn('light', 'text', (c) => c.notNull())
        .addColumn('escalated', 'integer', (c) => c.notNull())
        .addColumn('rework', 'integer', (c) => c.notNull())
        .addColumn('alarm_count', 'integer', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tickets_open').on('tickets').columns(['unit_id', 'alarm_kind', 'state']).execute();
      await db.schema.createIndex('tickets_deadline').on('tickets').columns(['state', 'deadline_at']).execute();
      await db.schema
        .createTable('ticket_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ticket_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('from_state', 'text')
        .addColumn('to_state', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('ticket_events_ticket').on('ticket_events').columns(['ticket_id', 'at']).execute();
      await db.schema
        .createTable('ticket_timers')
        .addColumn('ticket_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('fired_at', 'bigint')
        .addColumn('fired_by', 'text')
        .addPrimaryKeyConstraint('ticket_timers_pk', ['ticket_id', 'kind'])
        .execute();
      await db.schema.createIndex('ticket_timers_due').on('ticket_timers').columns(['fired_at', 'due_at']).execute();
    },
  },
  '0006-flows-outbox': {
    async up(db: Kysely<unknown>) {
      // The outbox position must be assigned by the database; each dialect spells that its own way.
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema
        .createTable('flows_outbox')
        .addColumn('seq', postgres ? 'bigserial' : 'integer', (c) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('ticket_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('ticket', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('leased_until', 'bigint', (c) => c.notNull())
        .addColumn('settled_at', 'bigint')
        .addColumn('outcome_reason', 'text')
        .addColumn('target', 'text')
        .execute();
      await db.schema.createIndex('flows_outbox_state').on('flows_outbox').columns(['state', 'seq']).execute();
      await db.schema.createIndex('flows_outbox_ticket').on('flows_outbox').columns(['ticket_id', 'seq']).execute();
    },
  },
  '0007-audit-ticket': {
    async up(db: Kysely<unknown>) {
      // Alarm, ticket and flows writes are audited too: a ticket's entries are read by its id.
      await db.schema.alterTable('audit_log').addColumn('ticket_id', 'text').execute();
      await db.schema.createIndex('audit_log_ticket').on('audit_log').columns(['ticket_id', 'at']).execute();
    },
  },
  '0011-ota': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ota_releases')
        .addColumn('version', 'text', (c) => c.primaryKey())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('published_at', 'bigint', (c) => c.notNull())
        .addColumn('published_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ota_artifacts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('from_version', 'text')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ota_artifacts_version').on('ota_artifacts').columns(['version', 'from_version']).execute();
      await db.schema
        .createTable('ota_campaigns')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('canary', 'integer', (c) => c.notNull())
        .addColumn('waves', 'text', (c) => c.notNull())
        .addColumn('wave_count', 'integer', (c) => c.notNull())
        .addColumn('failure_threshold', 'double precision', (c) => c.notNull())
        .addColumn('soak_ms', 'bigint', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('released_wave', 'integer', (c) => c.notNull())
        .addColumn('pause_reason', 'text')
        .addColumn('deadline_ms', 'bigint', (c) => c.notNull())
        .addColumn('deadline_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ota_campaign_units')
        .addColumn('campaign_id', 'text', (c) => c.notNull())
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('wave', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reported', 'integer', (c) => c.notNull())
        .addColumn('report_seq', 'bigint')
        .addColumn('from_version', 'text')
        .addColumn('download', 'text')
        .addColumn('bytes', 'bigint')
        .addColumn('total_bytes', 'bigint')
        .addColumn('transferred', 'bigint')
        .addColumn('eta_s', 'integer')
        .addColumn('reason', 'text')
        .addColumn('failed_checks', 'text')
        .addColumn('soc', 'double precision')
        .addColumn('detail', 'text')
        .addColumn('delivered_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('ota_campaign_units_pk', ['campaign_id', 'unit_id'])
        .execute();
      await db.schema.createIndex('ota_campaign_units_unit').on('ota_campaign_units').columns(['unit_id', 'state']).execute();
      await db.schema
        .createTable('ota_timers')
        .addColumn('campaign_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('fired_at', 'bigint')
        .addColumn('fired_by', 'text')
        .addPrimaryKeyConstraint('ota_timers_pk', ['campaign_id', 'kind'])
        .execute();
      await db.schema.createIndex('ota_timers_due').on('ota_timers').columns(['fired_at', 'due_at']).execute();
    },
  },
  '0012-location-history': {
    async up(db: Kysely<unknown>) {
      // The track a dashboard draws for a unit that moved, when no InfluxDB holds the readings.
      await db.schema
        .createTable('location_history')
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('lat', 'double precision', (c) => c.notNull())
        .addColumn('lon', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('location_history_pk', ['unit_id', 'ts'])
        .execute();
    },
  },
  '0013-ota-audit': {
    async up(db: Kysely<unknown>) {
      // The version a unit runs outlives a fleet restart: a campaign's delta choice reads it.
      await db.schema.alterTable('unit_state').addColumn('running', 'text').execute();
      // Release and campaign writes are audited too: read by the campaign and by the release.
      await db.schema.alterTable('audit_log').addColumn('campaign_id', 'text').execute();
      await db.schema.alterTable('audit_log').addColumn('release_version', 'text').execute();
      await db.schema.createIndex('audit_log_campaign').on('audit_log').columns(['campaign_id', 'at']).execute();
      await db.schema.createIndex('audit_log_release').on('audit_log').columns(['release_version', 'at']).execute();
    },
  },
  '0014-media-retention': {
    async up(db: Kysely<unknown>) {
      // The retention run, once per interval across instances (storage/sql-timers.ts).
      await db.schema
        .createTable('media_timers')
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('fired_at', 'bigint')
        .addColumn('fired_by', 'text')
        .addPrimaryKeyConstraint('media_timers_pk', ['job', 'kind'])
        .execute();
      await db.schema.createIndex('media_timers_due').on('media_timers').columns(['fired_at', 'due_at']).execute();
      // Oldest stored first, and the units' alarms behind an episode or a ticket (what evidence is held).
      await db.schema.createIndex('media_state_completed').on('media').columns(['state', 'completed_at']).execute();
      await db.schema.createIndex('alarm_occurrences_episode').on('alarm_occurrences').columns(['episode']).execute();
      await db.schema.createIndex('alarms_ticket').on('alarms').columns(['ticket_id']).execute();
    },
  },
  '0015-one-ticket-timer': {
    async up(db: Kysely<unknown>) {
      // One timer row per ticket, re-armed from stage to stage (storage/sql-timers.ts), instead of
      // three. Each ticket keeps its next stage not fired after its last fired one (a stage
      // still pending below a fired one passes, as the old rows of one beat fired in due order),
      // or, with every stage fired, its last one fired.
      await db.schema
        .createTable('ticket_timers_one')
        .addColumn('ticket_id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('fired_at', 'bigint')
        .addColumn('fired_by', 'text')
        .execute();
      await sql`insert into ticket_timers_one (ticket_id, kind, due_at, fired_at, fired_by)
        select ticket_id, kind, due_at, fired_at, fired_by from (
          select s.*, row_number() over (partition by ticket_id order by
            case when fired_at is null and stage > done then stage else 10 - stage end) as pick
          from (select t.*, ${sql.raw(STAGE_ORDER)} as stage,
            max(case when fired_at is null then 0 else ${sql.raw(STAGE_ORDER)} end) over (partition by ticket_id) as done
            from ticket_timers t) s
        ) p where pick = 1`.execute(db);
      await db.schema.dropTable('ticket_timers').execute();
      await db.schema.alterTable('ticket_timers_one').renameTo('ticket_timers').execute();
      await db.schema.createIndex('ticket_timers_due').on('ticket_timers').columns(['fired_at', 'due_at']).execute();
    },
  },
  '0016-first-occurrence-is-the-episode': {
    async up(db: Kysely<unknown>) {
      // An episode's first occurrence is its id, read from the alarm row (storage/alarm-occurrences.ts).
      await sql`delete from alarm_occurrences where fingerprint = episode`.execute(db);
    },
  },
  '0017-flows-outbox-pruning': {
    async up(db: Kysely<unknown>) {
      // The pruning run, once per interval across instances (storage/sql-timers.ts).
      await db.schema
        .createTable('flows_timers')
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('fired_at', 'bigint')
        .addColumn('fired_by', 'text')
        .addPrimaryKeyConstraint('flows_timers_pk', ['job', 'kind'])
        .execute();
      await db.schema.createIndex('flows_timers_due').on('flows_timers').columns(['fired_at', 'due_at']).execute();
      // Delivered events oldest settled first: the pruning reads only what it deletes (fleet README, flows outbox).
      await db.schema.createIndex('flows_outbox_settled').on('flows_outbox').columns(['state', 'settled_at']).execute();
    },
  },
  '0009-media': {
    async up(db: Kysely<unknown>) {
      // One row per recording a unit sent: what has arrived (`have`, verified byte ranges) and,
      // once the whole file matched its SHA-256, where the media store keeps it.
      await db.schema
        .createTable('media')
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('recording', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('type', 'text')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('have', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('alarm_id', 'text')
        .addColumn('start_ts', 'bigint')
        .addColumn('duration_ms', 'bigint')
        .addColumn('location', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .addPrimaryKeyConstraint('media_pk', ['unit_id', 'recording'])
        .execute();
      await db.schema.createIndex('media_alarm').on('media').columns(['alarm_id']).execute();
      await db.schema.createIndex('media_unit_state').on('media').columns(['unit_id', 'state']).execute();
      // An alarm's evidence chain: the head its alarm message carried, the manifest, and whether they agree.
      await db.schema
        .createTable('evidence')
        .addColumn('unit_id', 'text', (c) => c.notNull())
        .addColumn('alarm_id', 'text', (c) => c.notNull())
        .addColumn('raised_head', 'text')
        .addColumn('head', 'text')
        .addColumn('entries', 'text')
        .addColumn('chain', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_pk', ['unit_id', 'alarm_id'])
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
