// HTTP routes of the mesh view: the static page (plain HTML/JS/SVG from ./page, read once at
// startup; no build step) and its JSON API. The API's access check is the monitoring server's
// hook (monitoring.ts), which also says which namespaces the caller may read; the graph is
// narrowed to them (scope-filter.ts). The page holds no data.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SCOPE_HEADER, type ReadScope } from '../access/scope.ts';
import { scopeMeshView } from './scope-filter.ts';
import type { MeshViewSource } from './view.ts';

const page = (name: string): string => readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');

// Same-origin script and API only; the page is never framed.
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

export function meshViewRoutes(app: FastifyInstance, view: MeshViewSource, scopeOf: (req: FastifyRequest) => ReadScope): void {
  const html = page('index.html');
  const js = page('app.js');
  app.get('/mesh', async (_req, reply) => reply.redirect('/mesh/'));
  app.get('/mesh/', async (_req, reply) => reply.header('content-security-policy', CSP).type('text/html; charset=utf-8').send(html));
  app.get('/mesh/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(js));
  app.get('/mesh/api/graph', async (req, reply) => {
    const scope = scopeOf(req);
    return reply
      .header('cache-control', 'no-store')
      .header(SCOPE_HEADER, scope.all ? 'all' : 'namespaces')
      .send(await scopeMeshView(view.current(), scope));
  });
}
