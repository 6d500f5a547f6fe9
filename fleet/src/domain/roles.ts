import type { CommandName } from '@shouwang/protocol';

/**
 * Who may do what. Commanders watch; technicians also bring units into service on site (claim,
 * commission, ping, read config); maintainers also register, rotate and revoke, and change how a
 * unit behaves (config-set, restart, reboot); admins also manage API tokens.
 */
export const ROLES = ['technician', 'commander', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = ['read', 'claim', 'command', 'manage-units', 'manage-tokens'] as const;
export type Action = (typeof ACTIONS)[number];

const GRANTS: Record<Role, readonly Action[]> = {
  commander: ['read'],
  technician: ['read', 'claim', 'command'],
  maintainer: ['read', 'claim', 'command', 'manage-units'],
  admin: ['read', 'claim', 'command', 'manage-units', 'manage-tokens'],
};

export function can(role: Role, action: Action): boolean {
  return GRANTS[role].includes(action);
}

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** Commands that change a unit's behaviour need a maintainer; the rest only look or test. */
export function commandAction(command: CommandName): Action {
  return command === 'config-set' || command === 'restart' || command === 'reboot' ? 'manage-units' : 'command';
}
