import { TypeCompiler } from '@sinclair/typebox/compiler';
import { cm4 } from './cm4.ts';
import { pi4 } from './pi4.ts';
import { BoardDefinition } from './schema.ts';
import { zero2w } from './zero2w.ts';

export { BoardDefinition } from './schema.ts';

export const BOARDS = { pi4, cm4, zero2w } as const satisfies Record<string, BoardDefinition>;
export type BoardId = keyof typeof BOARDS;

const check = TypeCompiler.Compile(BoardDefinition);

/** Validates a definition (one from BOARDS or one read from a file); throws naming every bad field. */
export function validateBoard(def: unknown): BoardDefinition {
  if (check.Check(def)) return def;
  const errors = [...check.Errors(def)].map((e) => `${e.path || '/'}: ${e.message}`);
  throw new Error(`invalid board definition: ${errors.join('; ')}`);
}

/** A board definition by id, validated; unknown ids and malformed definitions throw with the reason. */
export function boardDefinition(id: string): BoardDefinition {
  const def = (BOARDS as Record<string, BoardDefinition>)[id];
  if (!def) throw new Error(`unknown board "${id}"; known: ${Object.keys(BOARDS).join(', ')}`);
  return validateBoard(def);
}
