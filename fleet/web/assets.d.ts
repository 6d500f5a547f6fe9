// esbuild loads these as data (see fleet/src/api/dashboard-bundle.ts).
declare module '*.geojson' {
  const value: unknown;
  export default value;
}
declare module '*.css' {
  const text: string;
  export default text;
}
