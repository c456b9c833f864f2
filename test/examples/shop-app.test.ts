// The shop demo's program (examples/shop/app) on loopback, without a cluster: the backend
// answers with its version, fails exactly the share it is told (also at run time through its
// admin port), and refuses connections once shut down; the client counts by version and by
// error, and stops at its bound.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { WEFT_VERSION } from '../../webhook/values.ts';
import { runLoad, type LoadOptions } from '../../examples/shop/app/load.ts';
import { failsAt, serveCheckout, type Checkout } from '../../examples/shop/app/serve.ts';

const started: Checkout[] = [];
async function checkout(version: string, failPercent = 0): Promise<Checkout> {
  const c = await serveCheckout({ version, host: '127.0.0.1', port: 0, adminPort: 0, failPercent, shutdownMs: 2000 });
  started.push(c);
  return c;
}
const quiet = (o: Omit<LoadOptions, 'out' | 'timeoutMs' | 'concurrency' | 'rate'> & Partial<LoadOptions>): LoadOptions => ({
  rate: 1000,
  concurrency: 4,
  timeoutMs: 2000,
  out: () => {},
  ...o,
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.shutdown()));
});

describe('the shop program', () => {
  it('fails exactly p % of requests, spread out (never two in a row below 50 %)', () => {
    for (const p of [0, 10, 30, 50, 100]) {
      const fails = Array.from({ length: 1000 }, (_, i) => failsAt(i + 1, p));
      expect(fails.filter(Boolean).length).toBe(10 * p);
      if (p < 50) expect(fails.some((f, i) => f && fails[i + 1])).toBe(false);
    }
  });

  it('counts answers by version and failures by status; the failing share changes at run time', async () => {
    const c = await checkout('v2');
    const url = `http://127.0.0.1:${c.port}/`;
    expect(await runLoad(quiet({ url, count: 200 }), new AbortController().signal)).toMatchObject({ requests: 200, ok: { v2: 200 }, errors: {} });

    const set = await fetch(`http://127.0.0.1:${c.adminPort}/fail?percent=30`, { method: 'PUT' });
    expect(await set.json()).toMatchObject({ version: 'v2', failPercent: 30 });
    expect(await runLoad(quiet({ url, count: 100 }), new AbortController().signal)).toMatchObject({ requests: 100, ok: { v2: 70 }, errors: { http_503: 30 } });
    expect((await fetch(`http://127.0.0.1:${c.adminPort}/fail?percent=101`, { method: 'PUT' })).status).toBe(400);
  });

  it('reports refused connections and timeouts as errors, and stops when told', async () => {
    const c = await checkout('v1');
    const port = c.port;
    await c.shutdown();
    const refused = await runLoad(quiet({ url: `http://127.0.0.1:${port}/`, count: 5 }), new AbortController().signal);
    expect(refused).toMatchObject({ requests: 5, ok: {}, errors: { ECONNREFUSED: 5 } });

    const silent = createServer(() => {}); // never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const stop = new AbortController();
      const lines: string[] = [];
      const running = runLoad(
        quiet({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, rate: 10, concurrency: 1, timeoutMs: 200, out: (l) => lines.push(l) }),
        stop.signal,
      );
      setTimeout(() => stop.abort(), 1200);
      const s = await running;
      expect(s.ok).toEqual({});
      expect(s.errors.timeout).toBeGreaterThanOrEqual(3);
      expect(lines.length).toBeGreaterThanOrEqual(2); // a per-second line, then the summary
      expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ summary: true });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('serves and is ready until shut down, then refuses new connections', async () => {
    const c = await checkout('v1');
    const url = `http://127.0.0.1:${c.port}/`;
    const before = await fetch(url);
    expect(await before.json()).toMatchObject({ version: 'v1' });
    const ready = await fetch(`${url}readyz`);
    expect(ready.status).toBe(200);
    await c.shutdown();
    await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  it('runs from the weft image of this version (the manifests name it; kustomize ships the program)', () => {
    const dir = new URL('../../examples/shop/', import.meta.url);
    const images = ['checkout.yaml', 'client.yaml'].flatMap((f) =>
      parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map(
        (d) => (d.toJS() as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]?.image,
      ),
    );
    expect(images).toEqual(Array(3).fill(`ghcr.io/weft-mesh/weft:${WEFT_VERSION}`));
    const kustomization = readFileSync(new URL('kustomization.yaml', dir), 'utf8');
    for (const f of ['shop.ts', 'serve.ts', 'load.ts']) expect(kustomization).toContain(`app/${f}`);
  });
});
