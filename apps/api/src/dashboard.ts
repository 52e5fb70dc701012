import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * The dashboard: a page and its plain ES modules, served at `/` by the API
 * it talks to. No build step: the modules are the files in
 * apps/api/dashboard/, and the two libraries are the vendors' own ES module
 * builds (htm's preact bundle: preact, its hooks and htm in one file; uPlot).
 * Everything is read once at start-up and served from memory.
 *
 * The files carry no data and no secret, so they need no token; the data
 * comes from the API's routes, with the token the user gives the page.
 */

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** Where the dashboard's own files are: apps/api/dashboard, next to src/ and dist/. */
const DASHBOARD_DIR = join(__dirname, '..', 'dashboard');

function vendorFile(resolvedFrom: string, relative: string): string {
  return join(dirname(require.resolve(resolvedFrom)), relative);
}

function loadAssets(): Map<string, Asset> {
  const js = 'text/javascript; charset=utf-8';
  const files: [string, string, string][] = [
    ['/', join(DASHBOARD_DIR, 'index.html'), 'text/html; charset=utf-8'],
    ['/ui/app.js', join(DASHBOARD_DIR, 'app.js'), js],
    ['/ui/events.js', join(DASHBOARD_DIR, 'events.js'), js],
    ['/ui/style.css', join(DASHBOARD_DIR, 'style.css'), 'text/css; charset=utf-8'],
    // htm's package maps ./dist/htm.js as its main file; its preact bundle is ../preact/standalone.mjs
    ['/ui/vendor/preact-htm.js', vendorFile('htm', '../preact/standalone.mjs'), js],
    ['/ui/vendor/uplot.js', require.resolve('uplot/dist/uPlot.esm.js'), js],
    ['/ui/vendor/uplot.css', require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  return new Map(files.map(([url, file, type]) => [url, { type, body: readFileSync(file) }]));
}

/**
 * The page's Content-Security-Policy: scripts and styles from this origin
 * only, no inline script, no plugins, no framing. Payloads are rendered as
 * text (never as HTML); this is the second line.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function registerDashboard(app: FastifyInstance): void {
  const assets = loadAssets();
  for (const [url, asset] of assets) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => {
      void reply
        .type(asset.type)
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache');
      return reply.send(asset.body);
    });
  }
}
