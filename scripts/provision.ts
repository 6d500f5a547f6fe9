/**
 * Provisions a demo unit the way a technician does, through the fleet's API: a maintainer's
 * registration with the unit's site, then the claim with its one-time code, which answers the
 * unit's own MQTT secret (the fleet writes its hash into the gateway's credentials file). A unit
 * already in the registry from an earlier run on the same data dir gets a new secret by rotation.
 */
export interface DemoSite {
  name: string;
  lat: number;
  lon: number;
}

export async function provisionUnit(api: string, adminToken: string, id: string, site: DemoSite): Promise<string> {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // A body that is not JSON (a proxy's error page) still gets the step and the status reported.
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  const fail = (step: string, r: { status: number; json: unknown }) =>
    new Error(`provisioning ${id}: ${step} answered ${r.status} ${JSON.stringify(r.json)}`);

  const registered = await call('POST', '/api/registry/units', { id, site });
  if (registered.status === 201) {
    const claimed = await call('POST', '/api/claim', { code: registered.json.claimCode });
    if (claimed.status !== 201 || typeof claimed.json.password !== 'string') throw fail('claim', claimed);
    return claimed.json.password;
  }
  if (registered.status !== 409) throw fail('register', registered);
  const updated = await call('PATCH', `/api/registry/units/${id}`, { site });
  if (updated.status !== 200) throw fail('site update', updated);
  const rotated = await call('POST', `/api/registry/units/${id}/rotate`);
  if (rotated.status !== 200 || typeof rotated.json.password !== 'string') throw fail('rotate', rotated);
  return rotated.json.password;
}
