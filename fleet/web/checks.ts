import type { CommissionCheck } from '@shouwang/protocol';

/**
 * The checklist in the order the unit runs it. Keyed by the protocol's check names so a check
 * added there fails the build here; the page does not bundle the protocol's schemas for one list.
 */
const ORDER: Record<CommissionCheck, number> = { gps: 0, signal: 1, battery: 2, charge: 3, camera: 4, upload: 5 };
export const COMMISSION_ORDER = (Object.keys(ORDER) as CommissionCheck[]).sort((a, b) => ORDER[a] - ORDER[b]);
