import { AlarmConsole } from './alarm-console.ts';
import type { Api } from './api.ts';
import { FleetClock } from './fleet-clock.ts';
import { translateStatic } from './i18n.ts';
import { KpiPanel } from './kpi-panel.ts';
import css from './loop.css';
import { LOOP_VIEWS } from './loop-routes.ts';
import type { Session } from './model.ts';
import type { Route } from './router.ts';
import type { LoopPush } from './stream.ts';
import { TicketPage } from './ticket-page.ts';
import { TicketQueue } from './ticket-queue.ts';

/**
 * The alarm loop's views joined to the dashboard: a nav in the header, and the console, the ticket
 * queue, the ticket page and the KPI panel each in its own container beside the unit views, shown
 * by the hash route. They share one estimate of the fleet's clock.
 */
export interface LoopViews {
  show(r: Route): void;
  relabel(): void;
  /** What the dashboard's stream pushes for these views. */
  push: LoopPush;
}

export function mountLoopViews(o: {
  api: Api;
  token: () => string | null;
  session: () => Session;
  header: HTMLElement;
  side: HTMLElement;
}): LoopViews {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.append(style);
  const nav = document.createElement('nav');
  nav.className = 'loop-nav';
  // The maintainers' updates have their tab too: on a campaign page no other tab is current.
  nav.innerHTML = [
    'units:#/:nav.units',
    'alarms:#/alarms:nav.alarms',
    'tickets:#/tickets:nav.tickets',
    'kpis:#/kpis:nav.kpis',
    'updates:#/campaigns:ota.nav',
  ]
    .map((x) => {
      const [name, href, label] = x.split(':') as [string, string, string];
      return `<a href="${href}" data-nav="${name}" data-i18n="${label}"></a>`;
    })
    .join('');
  o.header.querySelector('h1')?.after(nav);
  translateStatic(nav);
  const box = (id: string) => {
    const el = document.createElement('div');
    el.id = id;
    el.className = 'loop-view';
    el.hidden = true;
    o.side.append(el);
    return el;
  };
  const clock = new FleetClock();
  const alarms = new AlarmConsole(box('alarms-view'), { api: o.api, token: o.token, session: o.session, clock });
  const queue = new TicketQueue(box('tickets-view'), { api: o.api, clock });
  const ticket = new TicketPage(box('ticket-view'), { api: o.api, token: o.token, session: o.session, clock });
  const kpis = new KpiPanel(box('kpis-view'), { api: o.api, clock });
  return {
    show(r) {
      const area =
        r.view === 'ticket'
          ? 'tickets'
          : LOOP_VIEWS.has(r.view)
            ? r.view
            : r.view === 'campaigns' || r.view === 'campaign'
              ? 'updates'
              : r.view === 'dead-letters'
                ? ''
                : 'units';
      for (const a of nav.querySelectorAll<HTMLElement>('a[data-nav]')) a.toggleAttribute('aria-current', a.dataset.nav === area);
      if (r.view === 'alarms') alarms.open();
      else alarms.close();
      if (r.view === 'tickets') queue.open(r.query);
      else queue.close();
      if (r.view === 'ticket') ticket.open(r.id);
      else ticket.close();
      if (r.view === 'kpis') kpis.open(r.query);
      else kpis.close();
    },
    push: {
      alarms: (e) => alarms.push(e),
      flood: (e) => alarms.pushFlood(e),
      clock: (c) => clock.sync(c.now, performance.now(), c.scale),
      tickets(e) {
        queue.push(e);
        ticket.push(e);
      },
      // Connected or connected again: what was committed while the stream was down is asked for once.
      state(s) {
        if (s !== 'live') return;
        alarms.reconcile();
        queue.reconcile();
        ticket.reconcile();
      },
    },
    relabel() {
      translateStatic(nav);
      alarms.relabel();
      queue.relabel();
      ticket.relabel();
      kpis.relabel();
    },
  };
}
