// HTTP routes of the mesh view: the static page (plain HTML/JS/SVG from ./page, read once at
// startup; no build step) and its JSON API. The API's access check is the monitoring server's
// hook (monitoring.ts); the page holds no data.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { MeshViewSource } from './view.ts';

const page = (name: string): string => readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');

// Same-origin script and API only; the page is never framed.
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

export function meshViewRoutes(app: FastifyInstance, view: MeshViewSource): void {
  const html = page('index.html');
  const js = page('app.js');
  app.get('/mesh', async (_req, reply) => reply.redirect('/mesh/'));
  app.get('/mesh/', async (_req, reply) => reply.header('content-security-policy', CSP).type('text/html; charset=utf-8').send(html));
  app.get('/mesh/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(js));
  app.get('/mesh/api/graph', async (_req, reply) => reply.header('cache-control', 'no-store').send(view.current()));
}
