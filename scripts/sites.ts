/** Where the demo places its simulated units: temporary sites around Harbin (coordinates approximate). */
export const HARBIN_SITES = [
  { name: 'Songhua River embankment works', lat: 45.7792, lon: 126.6183 },
  { name: 'Qunli New District construction site', lat: 45.7437, lon: 126.5618 },
  { name: 'Harbin West Station rail works', lat: 45.7046, lon: 126.5761 },
  { name: 'Sun Island flood-control scene', lat: 45.7931, lon: 126.5902 },
  { name: 'Acheng quarry slope', lat: 45.5421, lon: 126.9563 },
  { name: 'Hulan bridge site', lat: 45.8897, lon: 126.5851 },
  { name: 'Pingfang industrial park', lat: 45.6079, lon: 126.6322 },
  { name: 'Daoli riverside warehouse fire', lat: 45.7722, lon: 126.6088 },
] as const;

export function unitIdFor(index: number): string {
  return `hrb-${String(index + 1).padStart(3, '0')}`;
}
