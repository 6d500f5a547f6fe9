import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * Tables as Kysely sees them. JSON payloads are stored as text so one schema serves SQLite and
 * PostgreSQL alike; times are ms since the epoch in 64-bit integers.
 */
export interface Database {
  units: UnitsTable;
  unit_state: UnitStateTable;
  power_history: PowerHistoryTable;
  location_history: LocationHistoryTable;
  api_tokens: ApiTokensTable;
  commissioning: CommissioningTable;
  audit_log: AuditLogTable;
  alarm_inbox: AlarmInboxTable;
  alarms: AlarmsTable;
  alarm_occurrences: AlarmOccurrencesTable;
  alarm_comments: AlarmCommentsTable;
  tickets: TicketsTable;
  ticket_events: TicketEventsTable;
  ticket_timers: TicketTimersTable;
  flows_outbox: FlowsOutboxTable;
  ota_releases: OtaReleasesTable;
  ota_artifacts: OtaArtifactsTable;
  ota_campaigns: OtaCampaignsTable;
  ota_campaign_units: OtaCampaignUnitsTable;
  ota_timers: OtaTimersTable;
  media_timers: MediaTimersTable;
  /** The flows outbox's pruning run (fleet/src/flows/outbox-pruning.ts), the shape of media_timers. */
  flows_timers: MediaTimersTable;
  media: MediaTable;
  evidence: EvidenceTable;
}

/** A recording a unit sent (fleet/src/media): verified ranges until complete, then where it is stored. */
export interface MediaTable {
  unit_id: string;
  recording: string;
  kind: string;
  type: string | null;
  size: number;
  /** Hex SHA-256 of the whole file, as the unit's chunks declared it. */
  sha256: string;
  /** JSON array of verified byte ranges, coalesced. */
  have: string;
  state: 'partial' | 'complete' | 'abandoned';
  alarm_id: string | null;
  start_ts: number | null;
  duration_ms: number | null;
  /** The media store's key, once complete. */
  location: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface EvidenceTable {
  unit_id: string;
  alarm_id: string;
  raised_head: string | null;
  head: string | null;
  /** JSON array of the manifest's entries. */
  entries: string | null;
  /** `pending` (no manifest yet), `ok` (the chain recomputes to its head and through the alarm's), `broken`. */
  chain: 'pending' | 'ok' | 'broken';
  updated_at: number;
}

export interface UnitsTable {
  id: string;
  board: string | null;
  /** JSON array of strings. */
  tags: string;
  site_name: string | null;
  site_lat: number | null;
  site_lon: number | null;
  grid_cell: string | null;
  created_at: number;
  /** Hash of the one-time claim code; cleared when claimed. */
  claim_code_hash: string | null;
  claim_expires_at: number | null;
  claimed_at: number | null;
  /** Hash of the unit's MQTT secret, as the gateway's credentials file carries it. */
  secret_hash: string | null;
  revoked_at: number | null;
  /** Monthly data budget, bytes; null = the default for the unit's link type. */
  data_budget_bytes: number | null;
}

export interface UnitStateTable {
  id: string;
  presence: string | null;
  power: string | null;
  location: string | null;
  link: string | null;
  /** JSON `{ version, ts }`: the agent version the unit last reported running. */
  running: string | null;
  last_seen: number | null;
  deployment_lat: number | null;
  deployment_lon: number | null;
  updated_at: number;
}

export interface PowerHistoryTable {
  unit_id: string;
  ts: number;
  soc: number;
  battery_v: number;
  solar_w: number;
  wind_w: number;
  load_w: number;
  state: string;
}

/** Positions with a fix, at event time: a unit's track. */
export interface LocationHistoryTable {
  unit_id: string;
  ts: number;
  lat: number;
  lon: number;
}

export interface ApiTokensTable {
  id: string;
  token_hash: string;
  role: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

/** One commissioning run as the unit answered it. */
export interface CommissioningTable {
  id: string;
  unit_id: string;
  /** When the unit ran the checklist (its clock), ms. */
  ts: number;
  requested_at: number;
  /** API token id of the technician who asked (`bootstrap` for the admin token). */
  requested_by: string;
  /** 1 when no item failed (an item pending for daylight is not a failure). */
  passed: number;
  /** JSON array of the protocol's commission items. */
  items: string;
}

/** One write through the API: who did what to which unit, when, and how it ended. */
export interface AuditLogTable {
  id: string;
  /** Null for writes that concern no unit (API tokens). */
  unit_id: string | null;
  /** The ticket an alarm, ticket or flows write concerned, if any. */
  ticket_id: string | null;
  /** The campaign a campaign write concerned (its id once created), if any. */
  campaign_id: string | null;
  /** The release a publish or a campaign write concerned, if any. */
  release_version: string | null;
  at: number;
  /** API token id (`bootstrap` for the configured admin token), its name and role at the time. */
  actor_id: string;
  actor_name: string;
  role: string;
  /** What was asked: a command name (`reboot`), or `claim`, `register`, `update`, `rotate`, `revoke`, … */
  action: string;
  status: number;
  /** `ok`, or the error code the caller was answered with. */
  result: string;
  message: string | null;
}

/** Every alarm-bearing message taken, keyed as the unit numbers them: a redelivery is taken once. */
export interface AlarmInboxTable {
  unit_id: string;
  seq: number;
  received_at: number;
}

/** One alarm episode (see domain/alarm-engine.ts); booleans as 0/1. */
export interface AlarmsTable {
  episode: string;
  unit_id: string;
  kind: string;
  source: string;
  severity: string;
  priority: string;
  category: string;
  state: string;
  raised_at: number;
  received_at: number;
  cleared_at: number | null;
  updated_at: number;
  late: number;
  repeats: number;
  chatter: number;
  inhibited_by: string | null;
  acked_by: string | null;
  acked_at: number | null;
  shelved_until: number | null;
  shelved_by: string | null;
  shelve_reason: string | null;
  lat: number | null;
  lon: number | null;
  value: number | null;
  message: string | null;
  ticket_id: string | null;
  district: string | null;
}

/** Occurrence fingerprint (unit~kind~occurrence) → the episode it belongs to. */
export interface AlarmOccurrencesTable {
  fingerprint: string;
  episode: string;
}

export interface AlarmCommentsTable {
  id: string;
  episode: string;
  at: number;
  author: string;
  text: string;
}

export interface TicketsTable {
  id: string;
  /** The alarm episode that opened it: no outside system gets a second ticket for one episode. */
  idempotency_key: string;
  state: string;
  unit_id: string;
  alarm_kind: string;
  category: string;
  severity: string;
  priority: string;
  cell: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
  team: string | null;
  department: string | null;
  dispatcher: string;
  opened_at: number;
  deadline_at: number;
  yellow_at: number;
  escalate_at: number;
  light: string;
  escalated: number;
  rework: number;
  alarm_count: number;
  /** JSON: position, readings around the alarm, snapshot and clip references. */
  evidence: string;
  updated_at: number;
}

/**
 * The ticket's history: every transition with actor, time and reason; KPIs are computed from it. A
 * ticket's opening is one row, action `open`, read as the moves it stands for (domain/ticket-flow.ts).
 */
export interface TicketEventsTable {
  id: string;
  ticket_id: string;
  at: number;
  action: string;
  from_state: string | null;
  to_state: string | null;
  actor: string;
  reason: string | null;
  /** JSON of what the move carried (department, merged alarm, satisfaction). */
  detail: string | null;
}

/**
 * A ticket's next deadline stage (`kind`: yellow, red, escalate), due at a time; fired once by
 * whichever instance claims it, which re-arms the row for the next stage. One row per ticket.
 */
export interface TicketTimersTable {
  ticket_id: string;
  kind: string;
  due_at: number;
  fired_at: number | null;
  fired_by: string | null;
}

/**
 * Ticket events for the flows, written in the ticket change's own transaction (the outbox):
 * `pending` until the consumer settles them as `delivered` or `dead-letter`.
 */
export interface FlowsOutboxTable {
  seq: Generated<number>;
  ticket_id: string;
  type: string;
  action: string;
  at: number;
  reason: string | null;
  /** JSON of the protocol's TicketSnapshot at the time of the change. */
  ticket: string;
  state: string;
  attempts: number;
  /** Not leased again before this (ms); 0 = never leased. */
  leased_until: number;
  settled_at: number | null;
  outcome_reason: string | null;
  target: string | null;
}

/** A published release: its signed manifest as received, checked against the fleet's trusted keys. */
export interface OtaReleasesTable {
  version: string;
  /** The manifest's JSON text exactly as signed. */
  manifest: string;
  /** Ed25519 signature over `manifest`, base64. */
  signature: string;
  key_id: string;
  size: number;
  sha256: string;
  published_at: number;
  published_by: string;
}

/** A file a unit downloads: the full bundle (`from_version` null) or a delta from one version. */
export interface OtaArtifactsTable {
  id: string;
  version: string;
  from_version: string | null;
  size: number;
  sha256: string;
}

/** A rollout of one release to a target, in waves (see domain/rollout-status.ts). */
export interface OtaCampaignsTable {
  id: string;
  name: string;
  version: string;
  /** JSON RolloutTarget. */
  target: string;
  canary: number;
  /** JSON array of cumulative percentages. */
  waves: string;
  /** How many waves the target was split into (canary included). */
  wave_count: number;
  failure_threshold: number;
  soak_ms: number;
  /** JSON: the unit-side policy the job carries (battery threshold, satellite, maintenance window). */
  policy: string;
  state: string;
  /** Highest wave released; -1 before the start. */
  released_wave: number;
  pause_reason: string | null;
  /** How long after its start the campaign ends, whatever its units have said. */
  deadline_ms: number;
  /** Set at the start. */
  deadline_at: number | null;
  created_at: number;
  created_by: string;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

/** Where one unit of a campaign stands. */
export interface OtaCampaignUnitsTable {
  campaign_id: string;
  unit_id: string;
  wave: number;
  state: string;
  /** 1 once the unit has said anything of this job. */
  reported: number;
  /** Sequence number of the unit's last report taken: older or repeated reports are ignored. */
  report_seq: number | null;
  from_version: string | null;
  /** `delta` or `full`, once the unit knows which it fetches. */
  download: string | null;
  bytes: number | null;
  total_bytes: number | null;
  /** Bytes the unit fetched over its link for the artifact, resumes and retries included. */
  transferred: number | null;
  eta_s: number | null;
  /** Why the unit deferred or failed (the protocol's OTA_REASONS), or `aborted`. */
  reason: string | null;
  /** JSON array of the health checks that failed. */
  failed_checks: string | null;
  /** Charge when deferred for battery, %. */
  soc: number | null;
  /** Reason, checks and the unit's own words in one line (CLI, logs), or the fleet's. */
  detail: string | null;
  delivered_at: number | null;
  updated_at: number;
}

/** Wave releases and campaign deadlines, fired once across instances (storage/sql-timers.ts). */
/** The media retention run, due once per interval (`kind` names the interval), fired by one instance. */
export interface MediaTimersTable {
  job: string;
  kind: string;
  due_at: number;
  fired_at: number | null;
  fired_by: string | null;
}

export interface OtaTimersTable {
  campaign_id: string;
  kind: string;
  due_at: number;
  fired_at: number | null;
  fired_by: string | null;
}

export type UnitRow = Selectable<UnitsTable>;
export type NewUnitRow = Insertable<UnitsTable>;
export type UnitStateRow = Selectable<UnitStateTable>;
export type PowerRow = Selectable<PowerHistoryTable>;
export type LocationRow = Selectable<LocationHistoryTable>;
export type TokenRow = Selectable<ApiTokensTable>;
export type CommissioningRow = Selectable<CommissioningTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type AlarmRow = Selectable<AlarmsTable>;
export type TicketRow = Selectable<TicketsTable>;
export type TicketEventRow = Selectable<TicketEventsTable>;
export type TicketTimerRow = Selectable<TicketTimersTable>;
export type AlarmCommentRow = Selectable<AlarmCommentsTable>;
export type OutboxRow = Selectable<FlowsOutboxTable>;
export type OtaReleaseRow = Selectable<OtaReleasesTable>;
export type OtaArtifactRow = Selectable<OtaArtifactsTable>;
export type OtaCampaignRow = Selectable<OtaCampaignsTable>;
export type OtaCampaignUnitRow = Selectable<OtaCampaignUnitsTable>;
