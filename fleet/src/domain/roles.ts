import type { CommandName } from '@shouwang/protocol';

/**
 * Who may do what. Commanders watch and answer alarms (acknowledge, shelve); technicians also
 * bring units into service on site (claim, commission, ping, read config); maintainers also
 * register, rotate and revoke, and change how a unit behaves (config-set, restart, reboot); admins
 * also manage API tokens. The work-order loop adds dispatchers (send a ticket to a department,
 * close it or reopen it after feedback), department operators (sign for, handle, give feedback,
 * send back a misrouted ticket) and supervisors (escalate; they also dispatch). The flows (Node-RED)
 * have a role of their own that only takes ticket events out and brings outside statuses in.
 * Maintainers (and admins) also publish releases and run update campaigns (`manage-updates`).
 */
export const ROLES = [
  'technician',
  'commander',
  'maintainer',
  'admin',
  'dispatcher',
  'department-operator',
  'supervisor',
  'flows',
] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  'read',
  'claim',
  'command',
  'manage-units',
  'manage-tokens',
  'answer-alarms',
  'dispatch',
  'handle',
  'supervise',
  'integrate',
  'manage-updates',
] as const;
export type Action = (typeof ACTIONS)[number];

const GRANTS: Record<Role, readonly Action[]> = {
  commander: ['read', 'answer-alarms'],
  technician: ['read', 'claim', 'command'],
  maintainer: ['read', 'claim', 'command', 'manage-units', 'manage-updates'],
  admin: ACTIONS,
  dispatcher: ['read', 'answer-alarms', 'dispatch'],
  'department-operator': ['read', 'handle'],
  supervisor: ['read', 'answer-alarms', 'dispatch', 'supervise'],
  flows: ['integrate'],
};

export function can(role: Role, action: Action): boolean {
  return GRANTS[role].includes(action);
}

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** Commands that change a unit's behaviour need a maintainer; the rest only look or test. */
export function commandAction(command: CommandName): Action {
  return command === 'config-set' || command === 'restart' || command === 'reboot' || command === 'ota' || command === 'ota-cancel'
    ? 'manage-units'
    : 'command';
}
