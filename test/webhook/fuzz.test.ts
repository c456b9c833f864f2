// Property test of /inject with seeded random and malformed AdmissionReviews: FUZZ_REVIEWS
// of them (10,000 in `make test`; the unit tier, `npm run test:unit`, samples 3,000 to stay
// within its minute; see vitest.config.ts). Invariants: never a 5xx; the uid is echoed
// whenever the body parsed and carried a valid string uid; every patch applies to the pod as
// sent; re-injecting the patched pod changes nothing; no injection fails internally. Half go
// over real HTTPS on loopback (keep-alive, 8 in flight), the other half through fastify's
// inject() into the same routes. Reproduce a failure with FUZZ_SEED=<seed> (and the same
// FUZZ_REVIEWS).
import fjp from 'fast-json-patch';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, loadCa } from '../../src/ca/authority.ts';
import { handleInject, type AdmissionRequest } from '../../webhook/admission.ts';
import { buildWebhookApp, startWebhookServer, type WebhookServer } from '../../webhook/server.ts';
import { testContext } from './fixtures.ts';
import { randomReview, rng, type Case } from './fuzz-gen.ts';
import { post } from './https.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20251125);
const REVIEWS = Number(process.env.FUZZ_REVIEWS ?? 10_000);
const HTTPS_CASES = Math.ceil(REVIEWS / 2);
const INJECT_CASES = REVIEWS - HTTPS_CASES;

const ctx = testContext();
let server: WebhookServer;
let agent: Agent;

beforeAll(async () => {
  const r = loadCa(await createRootCa(), { trustDomain: 'cluster.local' });
  if (!r.ok) throw new Error('ca');
  const s = await r.ca.issueServing({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  if (!s.ok || !s.cert.keyPem) throw new Error('serving');
  server = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tls: { cert: s.cert.chainPem, key: s.cert.keyPem },
    injectCtx: () => ctx,
    validate: () => ({ allowed: true }),
  });
  agent = new Agent({ keepAlive: true, maxSockets: 8, ca: r.ca.trustBundlePem });
});

afterAll(async () => {
  agent.destroy();
  await server?.close();
});

interface Stats {
  injected: number;
  skipped: number;
  rejected: number;
}

function check(c: Case, status: number, json: unknown, stats: Stats): void {
  const where = `case ${c.index} (${c.kind})`;
  expect(status, where).toBeLessThan(500);
  const response = (json as { response?: { uid?: unknown; patch?: string; allowed?: boolean; warnings?: string[] } } | undefined)?.response;
  expect(response?.warnings?.join(' ') ?? '', `${where}: internal failure`).not.toContain('failed internally');
  if (c.uid !== undefined && status !== 413) expect(response?.uid, where).toBe(c.uid);
  if (status !== 200) {
    stats.rejected++;
    return;
  }
  if (!response?.patch) {
    stats.skipped++;
    return;
  }
  stats.injected++;
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as fjp.Operation[];
  const req = c.request as AdmissionRequest;
  // validate=true makes fast-json-patch reject ops whose paths don't exist in the document.
  const patched = fjp.applyPatch(structuredClone(req.object), ops, true, false).newDocument;
  const again = handleInject({ ...req, object: patched }, ctx);
  expect(again.response.patch, `${where}: re-injection changed the pod`).toBeUndefined();
  expect(again.result, where).toBe('skipped');
}

describe('fuzz /inject', () => {
  it(`survives ${HTTPS_CASES} random reviews over HTTPS`, async () => {
    const next = rng(SEED);
    const stats: Stats = { injected: 0, skipped: 0, rejected: 0 };
    let i = 0;
    const worker = async () => {
      while (i < HTTPS_CASES) {
        const c = randomReview(next, i++);
        const { status, json } = await post(server.port, '/inject', c.body, agent);
        check(c, status, json, stats);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // The generator must exercise every branch, or the property proves little.
    expect(stats.injected).toBeGreaterThan(HTTPS_CASES * 0.12);
    expect(stats.skipped).toBeGreaterThan(HTTPS_CASES * 0.05);
    expect(stats.rejected).toBeGreaterThan(HTTPS_CASES * 0.2);
  }, 120_000);

  it(`survives ${INJECT_CASES} more through fastify inject()`, async () => {
    const app = buildWebhookApp({ injectCtx: () => ctx, validate: () => ({ allowed: true }) });
    await app.ready();
    const next = rng(SEED + 1);
    const stats: Stats = { injected: 0, skipped: 0, rejected: 0 };
    for (let i = 0; i < INJECT_CASES; i++) {
      const c = randomReview(next, HTTPS_CASES + i);
      const res = await app.inject({ method: 'POST', url: '/inject', payload: c.body, headers: { 'content-type': 'application/json' } });
      let json: unknown;
      try {
        json = res.json();
      } catch {
        json = undefined;
      }
      check(c, res.statusCode, json, stats);
    }
    await app.close();
    expect(stats.injected + stats.skipped + stats.rejected).toBe(INJECT_CASES);
  }, 120_000);
});
