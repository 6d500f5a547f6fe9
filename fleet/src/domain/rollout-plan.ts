/**
 * Who a campaign updates and in which wave: pure, from the registry's rows. A unit matches when it
 * meets every selector given (tags: any of them; site, board, cell: one of the listed); the order
 * inside the target is a stable hash of campaign id and unit id, so the canary group is a spread
 * of the fleet rather than the first units registered, and the same campaign always picks the same.
 */

export interface RolloutTarget {
  tags?: string[] | undefined;
  sites?: string[] | undefined;
  boards?: string[] | undefined;
  cells?: string[] | undefined;
  units?: string[] | undefined;
}

export interface TargetCandidate {
  id: string;
  board: string | null;
  tags: readonly string[];
  site: string | null;
  cell: string | null;
}

export interface WavePlan {
  /** Units in the canary group: the first wave, whatever the percentages. */
  canary: number;
  /** Cumulative share of the target reached at the end of each later wave, % (the last is 100). */
  waves: readonly number[];
}

function matches(c: TargetCandidate, t: RolloutTarget): boolean {
  if (t.units?.length && !t.units.includes(c.id)) return false;
  if (t.tags?.length && !t.tags.some((tag) => c.tags.includes(tag))) return false;
  if (t.sites?.length && (c.site === null || !t.sites.includes(c.site))) return false;
  if (t.boards?.length && (c.board === null || !t.boards.includes(c.board))) return false;
  if (t.cells?.length && (c.cell === null || !t.cells.includes(c.cell))) return false;
  return true;
}

/** FNV-1a, 32 bits: a spread, not a secret. */
function spread(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The target's unit ids in rollout order: the units the maintainer named as canaries first (those
 * in the target, in the order given: a unit at the depot, one on each kind of link), then the rest.
 */
export function selectTargets(
  campaignId: string,
  candidates: readonly TargetCandidate[],
  t: RolloutTarget,
  canaryUnits: readonly string[] = [],
): string[] {
  const ids = candidates
    .filter((c) => matches(c, t))
    .map((c) => ({ id: c.id, key: spread(`${campaignId}/${c.id}`) }))
    .sort((a, b) => a.key - b.key || a.id.localeCompare(b.id))
    .map((c) => c.id);
  const first = canaryUnits.filter((id) => ids.includes(id));
  return [...new Set([...first, ...ids])];
}

/** Problems with a plan, each with its field; empty when it is sound. */
export function checkWavePlan(p: WavePlan): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (!Number.isInteger(p.canary) || p.canary < 1) out.push({ path: '/canary', message: 'the canary group needs at least one unit' });
  p.waves.forEach((w, i) => {
    if (!(w > 0 && w <= 100)) out.push({ path: `/waves/${i}`, message: 'a wave reaches a share between 0 and 100 %' });
    if (i > 0 && w <= (p.waves[i - 1] ?? 0)) out.push({ path: `/waves/${i}`, message: 'each wave reaches further than the one before' });
  });
  if (p.waves.length > 0 && p.waves[p.waves.length - 1] !== 100) out.push({ path: '/waves', message: 'the last wave reaches 100 %' });
  return out;
}

/**
 * The wave of each unit, in order: wave 0 is the canary group, wave k ≥ 1 reaches `waves[k-1]` % of
 * the target (rounded up, never fewer units than the canary already took). A target no larger
 * than the canary group is all canary.
 */
export function assignWaves(ordered: readonly string[], p: WavePlan): string[][] {
  const n = ordered.length;
  const canary = Math.min(p.canary, n);
  const waves: string[][] = [ordered.slice(0, canary)];
  let reached = canary;
  for (const pct of p.waves) {
    const upto = Math.max(reached, Math.min(n, Math.ceil((n * pct) / 100)));
    if (upto > reached) waves.push(ordered.slice(reached, upto));
    reached = upto;
  }
  if (reached < n) waves.push(ordered.slice(reached));
  return waves;
}
