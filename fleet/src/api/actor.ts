/** Who acted, as the event log records it: the role and the token id. */
export function actorOf(req: { principal: { role: string; tokenId: string } | null }): string {
  return req.principal ? `${req.principal.role}:${req.principal.tokenId}` : 'loopback';
}
