import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles the dashboard's TypeScript in memory at start-up (~50 ms): no build step to forget,
 * no CDN, nothing fetched from the internet by the browser.
 */
export interface DashboardAssets {
  js: string;
  html: string;
}

const WEB = new URL('../../web/', import.meta.url);

export async function bundleDashboard(): Promise<DashboardAssets> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('main.ts', WEB))],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    loader: { '.geojson': 'json', '.css': 'text' },
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]?.text ?? '';
  const { readFile } = await import('node:fs/promises');
  const html = await readFile(new URL('index.html', WEB), 'utf8');
  return { js, html };
}
