/** One bench result row, in the format scripts/bench.ts prints (common.md). */
export interface Row {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  target?: string;
}
