import { type Action, can, commandAction, ROLES, type Role } from '../src/domain/roles.ts';
import { ApiError } from './api.ts';
import { t } from './i18n.ts';
import type { Session } from './model.ts';
import type { Key } from './strings.ts';

/**
 * What the unit page can do to a unit, through the same API routes as the CLI: the fleet checks
 * the role and records every attempt in the audit log; the page only says which role each needs
 * and asks first when the action is destructive.
 */
export const UNIT_ACTIONS = ['ping', 'config-get', 'config-set', 'reboot', 'rotate', 'revoke'] as const;
export type UnitAction = (typeof UNIT_ACTIONS)[number];

export const DESTRUCTIVE: ReadonlySet<UnitAction> = new Set(['config-set', 'reboot', 'rotate', 'revoke']);

export function apiAction(a: UnitAction | 'commission'): Action {
  return a === 'rotate' || a === 'revoke' ? 'manage-units' : commandAction(a);
}

export function actionPath(id: string, a: UnitAction | 'commission'): string {
  const unit = encodeURIComponent(id);
  return a === 'rotate' || a === 'revoke' ? `/api/registry/units/${unit}/${a}` : `/api/units/${unit}/commands/${a}`;
}

/** The least role that may do it, as the page names it next to the button. */
const LADDER: readonly Role[] = ['commander', 'technician', 'maintainer', 'admin'];
export function neededRole(a: Action): Role {
  return LADDER.find((r) => can(r, a)) ?? 'admin';
}

export function allowed(session: Session, a: Action): boolean {
  return session.role !== null && (ROLES as readonly string[]).includes(session.role) && can(session.role, a);
}

/** An API refusal in words the caller can act on. */
export function explain(err: unknown, a: Action, session: Session): string {
  if (!(err instanceof ApiError)) return t('error.generic', { message: String(err) });
  if (err.status === 403)
    return t('error.forbidden', { role: t(`role.${session.role ?? 'none'}` as Key), needs: t(`role.${neededRole(a)}`) });
  if (err.status === 401) return t('error.unauthenticated');
  if (err.code === 'UNIT_TIMEOUT') return t('error.timeout');
  if (err.status === 0) return t('error.unreachable');
  return t('error.generic', { message: `${err.code}: ${err.message}` });
}
