import { after, before } from 'node:test';
import { startPostgres } from '@shouwang/testkit';
import pg from 'pg';

/**
 * One PostgreSQL server for the test file (started before its tests, stopped after them) and a
 * function that creates a fresh database on it for each test.
 */
export function postgresDatabases(prefix: string): () => Promise<string> {
  let pgUrl = '';
  const teardown: (() => Promise<unknown>)[] = [];
  let databases = 0;
  before(async () => {
    pgUrl = (await startPostgres((fn) => teardown.unshift(fn))).url;
  });
  after(async () => {
    for (const fn of teardown) await fn();
  });
  return async () => {
    const name = `${prefix}_${process.pid}_${++databases}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
}
