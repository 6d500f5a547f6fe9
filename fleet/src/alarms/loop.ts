import { positionOf as fixedPosition } from '@shouwang/protocol';
import type { FeatureCollection } from 'geojson';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { FleetConfig } from '../config.ts';
import { DEFAULT_ALARM_RULES, parseAlarmRules } from '../domain/alarm-rules.ts';
import { DEFAULT_DEADLINES, parseDeadlines } from '../domain/ticket-flow.ts';
import { Grid } from '../grid/grid.ts';
import { readJsonFile } from '../json-file.ts';
import type { FleetState } from '../services/fleet-state.ts';
import type { LoopChange } from '../services/loop-changes.ts';
import { AlarmStore } from '../storage/alarm-store.ts';
import { FlowsOutbox } from '../storage/flows-outbox.ts';
import type { Dialect } from '../storage/open.ts';
import type { Database } from '../storage/schema.ts';
import { TicketStore } from '../storage/ticket-store.ts';
import { loadChinaCalendar } from '../tickets/calendar.ts';
import { TicketService } from '../tickets/ticket-service.ts';
import type { IntakeMessage } from './alarm-service.ts';
import { AlarmService } from './alarm-service.ts';
import { FleetRuleWatcher } from './fleet-rules.ts';
import { type AlarmIntake, startAlarmIntake } from './intake.ts';

export const SAMPLE_GRID = new URL('../grid/harbin-grid.sample.geojson', import.meta.url);

export interface AlarmLoop {
  alarms: AlarmService;
  tickets: TicketService;
  ticketStore: TicketStore;
  outbox: FlowsOutbox;
  grid: Grid;
  intake: AlarmIntake;
  watcher: FleetRuleWatcher;
  instanceId: string;
  close(): Promise<void>;
}

/**
 * Alarms to tickets: rules, grid and calendar loaded and validated (a bad file stops the start with
 * its problems listed), the durable intake session, the fleet-side rules over live state, and the
 * deadline timers on a beat (`tickets.timerPollS`; every instance polls, each timer fires once).
 */
export async function startAlarmLoop(o: {
  config: FleetConfig;
  /** The fleet's MQTT settings with its resolved client id; the alarm session is `<clientId>-alarms`. */
  mqtt: FleetConfig['mqtt'];
  instanceId: string;
  db: Kysely<Database>;
  dialect: Dialect;
  state: FleetState;
  clock: { now(): number };
  /** Hears each batch once committed, before its PUBACKs (the media intake's evidence heads). */
  stored?: (messages: readonly IntakeMessage[]) => Promise<void>;
  /** Hears what each commit of the alarm and ticket services changed (the live views). */
  changed?: (c: LoopChange) => void;
  log: Logger;
}): Promise<AlarmLoop> {
  const c = o.config;
  const rules = parseAlarmRules(c.alarms.rulesFile ? readJsonFile(c.alarms.rulesFile, 'alarm rules') : DEFAULT_ALARM_RULES);
  const deadlines = c.tickets.deadlinesFile ? parseDeadlines(readJsonFile(c.tickets.deadlinesFile, 'deadline rules')) : DEFAULT_DEADLINES;
  const grid = new Grid(readJsonFile(c.grid.file || SAMPLE_GRID, 'grid') as FeatureCollection, c.grid.cityDispatcher);
  const calendar = loadChinaCalendar({
    extraFile: c.tickets.calendarFile,
    workingHours: c.tickets.workingHours,
    offsetMin: c.tickets.utcOffsetMin,
  });
  const year = new Date(o.clock.now()).getUTCFullYear();
  if (calendar.years.last < year + 1 && new Date(o.clock.now()).getUTCMonth() >= 10)
    o.log.warn(
      { lastYear: calendar.years.last },
      'no holiday list for next year yet: add it to tickets.calendarFile when the State Council publishes it',
    );
  const instanceId = o.instanceId;
  const ticketStore = new TicketStore(o.db);
  const alarmStore = new AlarmStore(o.db, o.dialect);
  const log = o.log.child({ module: 'alarms' });
  const outbox = new FlowsOutbox(o.db);
  const changed = o.changed;
  const tickets = new TicketService({ store: ticketStore, outbox, deadlines, calendar, clock: o.clock, instanceId, changed, log });
  const alarms = new AlarmService({
    db: o.db,
    stores: { alarms: alarmStore, tickets: ticketStore, outbox },
    tickets,
    rules,
    grid,
    clock: o.clock,
    positionOf(id) {
      const u = o.state.get(id);
      return (u?.location && fixedPosition(u.location)) ?? u?.outlook.location.deployment ?? null;
    },
    readingsOf(id) {
      const u = o.state.get(id);
      return u ? { power: u.power, location: u.location, link: u.link, liveness: u.liveness.status } : {};
    },
    changed,
    log,
  });
  const watcher = new FleetRuleWatcher(alarms, o.clock, log);
  watcher.restore(await alarmStore.openFleetSide());
  const onUnit = (v: Parameters<FleetRuleWatcher['observe']>[0]) => watcher.observe(v);
  o.state.on('unit', onUnit);
  const intake = startAlarmIntake(
    {
      url: c.mqtt.url,
      username: c.mqtt.username,
      password: c.mqtt.password,
      clientId: `${o.mqtt.clientId}-alarms-${instanceId}`,
      clock: o.clock,
      overlap: o.dialect === 'postgres',
      // Alarms and digests reach the fleet on the alarm intake's MQTT connection only (one decode each): live state is fed from it.
      observe: (m) => o.state.apply(m),
      ...(o.stored ? { stored: o.stored } : {}),
    },
    alarms,
    log,
  );
  let polling: Promise<unknown> = Promise.resolve();
  const poll = setInterval(() => {
    polling = tickets.runDue().catch((err: unknown) => log.error({ err }, 'ticket timers failed; next beat retries'));
  }, c.tickets.timerPollS * 1000);
  log.info({ instanceId, cells: grid.cellCount, calendarYears: calendar.years }, 'alarm loop ready');
  return {
    alarms,
    tickets,
    ticketStore,
    outbox,
    grid,
    intake,
    watcher,
    instanceId,
    async close() {
      clearInterval(poll);
      o.state.off('unit', onUnit);
      await intake.close();
      await polling;
      await watcher.idle();
    },
  };
}
