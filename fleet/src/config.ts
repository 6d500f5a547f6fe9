import { type Static, Type } from '@sinclair/typebox';

/** The fleet manager's configuration, defaults inside (file → env SHOUWANG_FLEET_* → validate → freeze). */
export const FleetConfig = Type.Object({
  dataDir: Type.String({ default: '.data/fleet' }),
  http: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'API and dashboard; 0 picks a free port' }),
    },
    { default: {} },
  ),
  mqtt: Type.Object(
    {
      url: Type.String({ default: 'mqtt://127.0.0.1:1883' }),
      username: Type.String({ default: 'fleet' }),
      password: Type.String({ default: '' }),
      clientId: Type.String({ default: 'fleet' }),
    },
    { default: {} },
  ),
});
export type FleetConfig = Static<typeof FleetConfig>;
