import { readFileSync } from 'node:fs';

/** A JSON file read at start-up; a missing or broken one is an error naming what it is and where. */
export function readJsonFile(path: string | URL, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${what} ${String(path)}: ${(err as Error).message}`);
  }
}
