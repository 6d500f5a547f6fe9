import { UnitId } from '@shouwang/protocol';

/**
 * Route schema pieces more than one route file shares. Registry and audit routes take any id and
 * answer 404 for one they do not know; command routes take only ids a unit can have (the
 * protocol's UnitId), since an id outside it could never reach a unit's topics.
 */
export const ID_PARAMS = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
export const UNIT_ID_PARAMS = { type: 'object', properties: { id: UnitId }, required: ['id'] };

/** `?limit=` from 1 to `max`, `dflt` when absent; nothing else in the query. */
export function limitQuery(max: number, dflt: number) {
  return {
    type: 'object',
    properties: { limit: { type: 'integer', minimum: 1, maximum: max, default: dflt } },
    additionalProperties: false,
  };
}
