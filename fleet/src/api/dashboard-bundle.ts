import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles the dashboard's TypeScript in memory at start-up (~50 ms): no build step to forget,
 * no CDN, nothing fetched from the internet by the browser (Leaflet and its styles included).
 */
export interface DashboardAssets {
  js: string;
  html: string;
}

const WEB = new URL('../../web/', import.meta.url);

/** A page from a folder holding its `index.html` and `main.ts` (the dashboard; the bench's baseline). */
export async function bundlePage(dir: URL): Promise<DashboardAssets> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('main.ts', dir))],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    loader: { '.geojson': 'json', '.css': 'text' },
    logLevel: 'silent',
  });
  return { js: result.outputFiles[0]?.text ?? '', html: await readFile(new URL('index.html', dir), 'utf8') };
}

export function bundleDashboard(): Promise<DashboardAssets> {
  return bundlePage(WEB);
}
