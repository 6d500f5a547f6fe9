/**
 * One benchmark result, as every `<part>/bench/*.ts` returns it and `npm run bench` prints it.
 * A baseline is always measured in the same run, never copied from elsewhere.
 */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  target?: string;
}
