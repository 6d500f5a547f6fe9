import { type Action, can, isRole, type Role } from '../src/domain/roles.ts';
import { explain } from './actions.ts';
import { ApiError } from './api.ts';
import { areaName } from './area-names.ts';
import { esc } from './html.ts';
import { t } from './i18n.ts';
import type { Session } from './model.ts';
import type { Key } from './strings.ts';

/**
 * Who may act in the alarm and ticket loop, as the page names it beside a button: the least role of
 * the loop's own ladder that has the action (a dispatcher dispatches; an admin also could, but the
 * dispatcher is who a refused commander should ask).
 */
const LOOP_LADDER: readonly Role[] = ['commander', 'dispatcher', 'department-operator', 'supervisor', 'admin'];

export function loopRole(a: Action): Role {
  return LOOP_LADDER.find((r) => can(r, a)) ?? 'admin';
}

/** The fleet's refusal in words: a 403 names the role that may, a 409 says why the state forbids it. */
export function explainLoop(err: unknown, a: Action, session: Session): string {
  if (err instanceof ApiError && err.status === 403)
    return t('error.forbidden', { role: t(`role.${session.role ?? 'none'}` as Key), needs: t(`role.${loopRole(a)}`) });
  if (err instanceof ApiError && err.status === 409) return t('loop.conflict', { message: err.message });
  return explain(err, a, session);
}

/** `role:tokenId` as the role's name and the token; the fleet's own moves as the fleet; an outside system's as it came. */
export function actorName(actor: string): string {
  if (actor === 'system') return t('ticket.system');
  const [role = '', id = ''] = actor.split(/:(.*)/s);
  return isRole(role) ? `${t(`role.${role}`)} · ${id}` : actor;
}

export { shortId } from '../src/domain/ticket-ref.ts';

/** District › street › community › cell as markup, each level unbroken; "outside every district" when none. */
export function gridPath(g: { district: string | null; street: string | null; community: string | null; cell: string | null }): string {
  const levels = [g.district, g.street, g.community, g.cell].filter((x): x is string => !!x);
  return levels.length
    ? levels.map((x) => `<span class="seg" title="${esc(x)}">${esc(areaName(x))}</span>`).join(' › ')
    : esc(t('ticket.outsideGrid'));
}
