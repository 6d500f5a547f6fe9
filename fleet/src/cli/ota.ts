import type { CampaignView, UnitView } from '../ota/campaigns.ts';
import type { ReleaseView } from '../ota/releases.ts';
import { table } from './format.ts';

/**
 * `shouwang release …` and `shouwang campaign …`: the maintainer's view of releases and rollout
 * campaigns, over the fleet API (publishing a release is `./dev release publish`, which reads the
 * release folder). Exit codes as the rest of the CLI; `campaign status` exits 1 when the campaign
 * paused itself or a unit failed or rolled back, so a script can stop on it.
 */
export const OTA_VERBS = {
  release: `release list | release show <version>
                                published releases; one release with its artifacts and deltas`,
  campaign: `campaign list | campaign status <id>
                                campaigns with their counts; one campaign's waves and every unit
                                (state, step, bytes, ETA); exit 1 when it paused itself or a unit failed
  campaign create --name N --version V [--tags a,b] [--sites ..] [--boards ..] [--cells ..] [--units ..]
                  [--canary 1] [--canary-units a,b] [--waves 25,100] [--threshold 0.1] [--soak S]
                  [--deadline-h 336] [--allow-satellite] [--window HH:MM-HH:MM] [--min-battery PCT]
                                (maintainer) a draft campaign; prints its id
  campaign start|pause|resume|abort <id> [--reason TEXT]
                                (maintainer) move a campaign; the reason goes on its history
  campaign history <id>         who created and moved it, when, how it ended, why (newest first)`,
} as const;

export const OTA_OPTIONS = {
  name: { type: 'string' },
  version: { type: 'string' },
  sites: { type: 'string' },
  boards: { type: 'string' },
  cells: { type: 'string' },
  units: { type: 'string' },
  canary: { type: 'string' },
  'canary-units': { type: 'string' },
  waves: { type: 'string' },
  threshold: { type: 'string' },
  soak: { type: 'string' },
  'deadline-h': { type: 'string' },
  'allow-satellite': { type: 'boolean' },
  window: { type: 'string' },
  'min-battery': { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** What the CLI's runner lends: its HTTP call, its refusal printer and its usage error. */
export interface OtaTools {
  out(s: string): void;
  json: boolean;
  at(ts: number): string;
  now(): number;
  get(path: string): Promise<{ ok: boolean; body: unknown; refuse(): number }>;
  post(path: string, body?: unknown): Promise<{ ok: boolean; body: unknown; refuse(): number }>;
  usage(message: string): never;
}

const list = (s: string | boolean | undefined) =>
  typeof s === 'string'
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

function num(t: OtaTools, v: string | boolean | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) t.usage(`${what} must be a number`);
  return n;
}

const COUNT_ORDER = ['updated', 'in-progress', 'waiting', 'pending', 'failed', 'rolled-back', 'no-report', 'expired', 'cancelled'] as const;

function counts(c: CampaignView['counts']): string {
  return COUNT_ORDER.filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${k}`)
    .join(', ');
}

const kb = (n: number | null) => (n === null ? '-' : n < 10_000 ? `${n} B` : `${(n / 1000).toFixed(1)} kB`);

function unitProgress(u: UnitView): string {
  if (u.totalBytes === null) return '-';
  return `${kb(u.bytes)} / ${kb(u.totalBytes)}${u.download ? ` ${u.download}` : ''}`;
}

function eta(s: number | null): string {
  if (s === null) return '-';
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

function nextWave(c: CampaignView, at: (ts: number) => string): string {
  const soak = `(waves at least ${eta(c.soakS)} apart)`;
  if (c.state === 'draft') return `canary at the start ${soak}`;
  if (c.releasedWave + 1 >= c.waveSummary.length) return 'none: every wave released';
  const wave = `wave ${c.releasedWave + 1}`;
  if (c.state === 'paused') return `${wave} held while paused ${soak}`;
  if (c.state !== 'running' || c.nextWaveAt === null) return `none (${c.state})`;
  return `${wave} at ${at(c.nextWaveAt)} once the released units have settled ${soak}`;
}

export function campaignDetail(c: CampaignView & { units: UnitView[] }, at: (ts: number) => string): string {
  const head = [
    `campaign  ${c.id}  ${c.name}`,
    `release   ${c.version}`,
    `state     ${c.state}${c.pauseReason ? `: ${c.pauseReason}` : ''}`,
    `deadline  ${c.deadlineAt === null ? 'set when it starts' : at(c.deadlineAt)}`,
    `next wave ${nextWave(c, at)}`,
    `units     ${counts(c.counts)}`,
    `downloads ${c.downloads.delta} delta, ${c.downloads.full} full`,
    '',
    table(
      ['WAVE', 'UNITS', 'RELEASED', 'COUNTS'],
      c.waveSummary.map((w) => [w.wave === 0 ? 'canary' : String(w.wave), String(w.units), w.released ? 'yes' : 'no', counts(w.counts)]),
    ),
  ];
  const units = table(
    ['UNIT', 'WAVE', 'STATE', 'COUNTED AS', 'DOWNLOAD', 'ETA', 'DETAIL'],
    c.units.map((u) => [
      u.unitId,
      u.wave === 0 ? 'canary' : String(u.wave),
      u.state,
      u.bucket,
      unitProgress(u),
      eta(u.etaS),
      u.detail ?? (u.reach === 'asleep' ? 'asleep' : ''),
    ]),
  );
  return `${head.join('\n')}\n${units}`;
}

interface HistoryEntry {
  at: number;
  actor: string;
  role: string;
  action: string;
  result: string;
  message: string | null;
}

export function historyTable(es: readonly HistoryEntry[], at: (ts: number) => string): string {
  if (es.length === 0) return 'nothing on record yet\n';
  return table(
    ['AT', 'WHO', 'ROLE', 'ACTION', 'RESULT', 'REASON'],
    es.map((e) => [at(e.at), e.actor, e.role, e.action, e.result, e.message ?? '']),
  );
}

export function campaignsTable(cs: readonly CampaignView[], at: (ts: number) => string): string {
  if (cs.length === 0) return 'no campaign yet\n';
  return table(
    ['ID', 'NAME', 'RELEASE', 'STATE', 'UNITS', 'CREATED'],
    cs.map((c) => [c.id, c.name, c.version, c.state, counts(c.counts), at(c.createdAt)]),
  );
}

export function releasesTable(rs: readonly ReleaseView[], at: (ts: number) => string): string {
  if (rs.length === 0) return 'no release published yet\n';
  return table(
    ['VERSION', 'BOARDS', 'FULL', 'DELTAS FROM', 'KEY', 'PUBLISHED'],
    rs.map((r) => [
      r.version,
      r.manifest.boards.join(','),
      kb(r.manifest.full.size),
      r.manifest.deltas.map((d) => `${d.from} (${kb(d.size)})`).join(', ') || '-',
      r.keyId,
      at(r.publishedAt),
    ]),
  );
}

function createBody(t: OtaTools, o: Values) {
  if (typeof o.name !== 'string' || typeof o.version !== 'string') t.usage('campaign create needs --name and --version');
  const waves = list(o.waves)?.map((w) => num(t, w, '--waves') as number);
  const window = typeof o.window === 'string' ? /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(o.window) : null;
  if (o.window !== undefined && !window) t.usage('--window is HH:MM-HH:MM, local time');
  const minBattery = num(t, o['min-battery'], '--min-battery');
  const target = Object.fromEntries(
    (['tags', 'sites', 'boards', 'cells', 'units'] as const).flatMap((k) => {
      const v = list(o[k]);
      return v ? [[k, v]] : [];
    }),
  );
  const optional = {
    canary: num(t, o.canary, '--canary'),
    canaryUnits: list(o['canary-units']),
    waves,
    failureThreshold: num(t, o.threshold, '--threshold'),
    soakS: num(t, o.soak, '--soak'),
    deadlineH: num(t, o['deadline-h'], '--deadline-h'),
  };
  return {
    name: o.name,
    version: o.version,
    target,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    policy: {
      allowSatellite: o['allow-satellite'] === true,
      ...(window ? { window: { start: window[1], end: window[2] } } : {}),
      ...(minBattery !== undefined ? { minBatteryPct: minBattery } : {}),
    },
  };
}

/** What a move just did, in the words a maintainer acts on. */
const MOVED = {
  start: 'the canary group has the job',
  pause: 'no further wave goes until it is resumed',
  resume: 'the next wave goes once the released units have settled',
  abort: 'units that have not started drop the job; one already switching finishes',
} as const;

export async function runOta(verb: keyof typeof OTA_VERBS, rest: readonly string[], o: Values, t: OtaTools): Promise<number> {
  const [sub, arg] = rest;
  const need = (v: string | undefined, what: string) => v ?? t.usage(`missing ${what}`);
  const show = async (path: string, render: (b: unknown) => string, exit: (b: unknown) => number = () => 0) => {
    const r = await t.get(path);
    if (!r.ok) return r.refuse();
    t.out(t.json ? `${JSON.stringify(r.body, null, 2)}\n` : render(r.body));
    return exit(r.body);
  };
  if (verb === 'release') {
    if (sub === 'list') return show('/api/ota/releases', (b) => releasesTable((b as { releases: ReleaseView[] }).releases, t.at));
    if (sub === 'show')
      return show(`/api/ota/releases/${encodeURIComponent(need(arg, 'version'))}`, (b) => `${JSON.stringify(b, null, 2)}\n`);
    return t.usage(`release ${sub === undefined ? 'needs list or show' : `has no ${JSON.stringify(sub)}`}`);
  }
  switch (sub) {
    case 'list':
      return show('/api/ota/campaigns', (b) => campaignsTable((b as { campaigns: CampaignView[] }).campaigns, t.at));
    case 'status':
      return show(
        `/api/ota/campaigns/${encodeURIComponent(need(arg, 'campaign id'))}`,
        (b) => campaignDetail(b as CampaignView & { units: UnitView[] }, t.at),
        (b) => {
          const c = b as CampaignView;
          return c.counts.failed + c.counts['rolled-back'] > 0 || (c.state === 'paused' && c.pause?.by === 'failures') ? 1 : 0;
        },
      );
    case 'history':
      return show(`/api/ota/campaigns/${encodeURIComponent(need(arg, 'campaign id'))}/audit`, (b) =>
        historyTable((b as { entries: HistoryEntry[] }).entries, t.at),
      );
    case 'create': {
      const r = await t.post('/api/ota/campaigns', createBody(t, o));
      if (!r.ok) return r.refuse();
      const c = r.body as CampaignView;
      t.out(
        t.json
          ? `${JSON.stringify(c, null, 2)}\n`
          : `campaign ${c.id} created (draft): ${c.waveSummary.map((w) => w.units).join(' + ')} units in ${c.waveSummary.length} waves, canary first\nstart it with: shouwang campaign start ${c.id}\n`,
      );
      return 0;
    }
    case 'start':
    case 'pause':
    case 'resume':
    case 'abort': {
      const reason = typeof o.reason === 'string' && o.reason.trim() !== '' ? o.reason.trim() : undefined;
      const r = await t.post(`/api/ota/campaigns/${encodeURIComponent(need(arg, 'campaign id'))}/${sub}`, reason ? { reason } : undefined);
      if (!r.ok) return r.refuse();
      const c = r.body as CampaignView;
      t.out(t.json ? `${JSON.stringify(c, null, 2)}\n` : `campaign ${c.id}: ${c.state}: ${MOVED[sub]}; ${counts(c.counts)}\n`);
      return 0;
    }
    default:
      return t.usage(`campaign ${sub === undefined ? 'needs a subcommand' : `has no ${JSON.stringify(sub)}`}`);
  }
}
