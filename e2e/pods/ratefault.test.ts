// RateLimitPolicy and FaultPolicy on real Pods: Weft installed by its chart (confined to its
// own namespaces), an `echo` Deployment (1 replica) and a `caller` Pod in a meshed namespace,
// both injected by the webhook and started by the kubelet. The caller's requests leave
// through its sidecar (capture, fault filter) and arrive through echo's (mTLS, rate limit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/kube.ts';
import { napply, nk, nkJson, nodeSuitesEnabled } from '../node/support.ts';
import { deployEcho, idleClientPod } from './support/traffic-loop.ts';
import { envoyStats, pods } from './support/shop.ts';
import { installWeft, weftImages, type WeftRelease } from './support/weft.ts';

// Paced open loop from inside the caller: `rate` requests/s for `seconds`, counted by status.
const PACED = `
const [url, rate, secs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const by = {}; let retryAfter = 0; const pending = []; const start = Date.now();
for (let i = 0; i < rate * secs; i++) {
  const wait = start + (i * 1000) / rate - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(fetch(url, { signal: AbortSignal.timeout(5000) }).then(async (r) => {
    await r.text(); by[r.status] = (by[r.status] ?? 0) + 1;
    if (r.status === 429 && r.headers.get('retry-after')) retryAfter++;
  }, (e) => { by.error = (by.error ?? 0) + 1; }));
}
await Promise.all(pending);
console.log(JSON.stringify({ by, retryAfter }));
`;

interface Counts {
  by: Record<string, number>;
  retryAfter: number;
}

describe.skipIf(!nodeSuitesEnabled)('rate limits and faults on real Pods', () => {
  let rel: WeftRelease;
  let ns = '';
  let removeNs: () => Promise<void> = async () => {};

  const send = async (path: string, rate: number, seconds: number): Promise<Counts> => {
    const url = `http://echo.${ns}.svc.cluster.local${path}`;
    const r = await nk(['-n', ns, 'exec', 'caller', '--', 'node', '--input-type=module', '-e', PACED, url, String(rate), String(seconds)], {
      timeoutMs: 120_000,
    });
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Counts;
  };
  // Accepted by the leader; the data path itself says when the policy arrived (Programmed is
  // checked by e2e/controller/replicas.test.ts and backend.test.ts).
  const accepted = (kind: string, name: string) =>
    eventually(() => nkJson<{ status?: { conditions?: { type: string; status: string }[] } }>(['-n', ns, 'get', kind, name]), {
      until: (o) => o.status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false,
      timeoutMs: 60_000,
      what: `${kind} ${name} Accepted`,
    }).then(
      () => true,
      async () => {
        console.log(
          `[ratefault] ${kind} ${name} not Accepted in 60 s: ${JSON.stringify((await nkJson<{ status?: unknown }>(['-n', ns, 'get', kind, name])).status)}`,
        );
        return false;
      },
    );
  const statSum = async (podSelector: string, part: string) => {
    const [p] = await pods(ns, podSelector);
    return [...(await envoyStats(p?.status.podIP ?? ''))].filter(([k]) => k.includes(part)).reduce((sum, [, v]) => sum + v, 0);
  };

  beforeAll(async () => {
    rel = await installWeft();
    const img = await weftImages();
    ({ name: ns, remove: removeNs } = await rel.meshNamespace('ratefault'));
    await deployEcho(ns, img.weft, 1);
    await napply(idleClientPod('caller', img.weft), ns);
    await nk(['-n', ns, 'wait', '--for=condition=Ready', 'pod/caller', '--timeout=180s'], { timeoutMs: 200_000 });
    await eventually(() => send('/', 10, 1), { until: (c) => c.by['200'] === 10, timeoutMs: 60_000, what: 'the caller reaching echo' });
  }, 900_000);

  afterAll(async () => {
    await removeNs();
    await rel?.uninstall();
  }, 180_000);

  it('RateLimitPolicy: 20/s on /limited → 429s with retry-after at the configured rate; other paths unlimited', { timeout: 180_000 }, async () => {
    await napply(
      {
        apiVersion: 'mesh.weft.dev/v1alpha1',
        kind: 'RateLimitPolicy',
        metadata: { name: 'echo' },
        spec: {
          targetRef: { kind: 'Service', name: 'echo' },
          rules: [{ match: { pathPrefix: '/limited' }, limit: { requests: 20, interval: '1s', burst: 5 } }],
        },
      },
      ns,
    );
    const wasAccepted = await accepted('ratelimitpolicy', 'echo');
    await eventually(() => send('/limited', 50, 1), { until: (c) => (c.by['429'] ?? 0) > 0, timeoutMs: 90_000, what: 'the first 429' });
    await new Promise((r) => setTimeout(r, 1500)); // the bucket refills
    const before = await statSum('app=echo', 'rate_limited');
    const limited = await send('/limited', 100, 5);
    const free = await send('/free', 50, 2);
    const [echo] = await pods(ns, 'app=echo');
    const stats = [...(await envoyStats(echo?.status.podIP ?? ''))].filter(([k]) => k.includes('rate_limit'));
    const rejected = stats.filter(([k]) => k.includes('rate_limited')).reduce((sum, [, v]) => sum + v, 0) - before;
    const summary = (await nk(['-n', ns, 'get', 'rl', 'echo', '-o', 'wide'])).stdout;
    console.log(`[ratefault] ${summary.trim()}`);
    console.log(
      `[ratefault] 500 requests at 100/s for 5 s against 20/s (burst 5): ${JSON.stringify(limited)}; /free ${JSON.stringify(free)}; echo's sidecar: ${stats.map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
    expect(limited.by['200']).toBeGreaterThanOrEqual(85);
    expect(limited.by['200']).toBeLessThanOrEqual(120);
    expect((limited.by['200'] ?? 0) + (limited.by['429'] ?? 0)).toBe(500);
    expect(limited.retryAfter).toBe(limited.by['429']);
    expect(free.by).toEqual({ '200': 100 });
    expect(rejected).toBe(limited.by['429']);
    expect(wasAccepted).toBe(true);
    await nk(['-n', ns, 'delete', 'ratelimitpolicy', 'echo']);
  });

  it('FaultPolicy: an abort of 50 % shows up at the caller, the server never sees those requests', { timeout: 180_000 }, async () => {
    await napply(
      {
        apiVersion: 'mesh.weft.dev/v1alpha1',
        kind: 'FaultPolicy',
        metadata: { name: 'echo' },
        spec: { targetRef: { kind: 'Service', name: 'echo' }, abort: { httpStatus: 503, percentage: 50 } },
      },
      ns,
    );
    const wasAccepted = await accepted('faultpolicy', 'echo');
    await eventually(() => send('/', 20, 1), { until: (c) => (c.by['503'] ?? 0) > 0, timeoutMs: 90_000, what: 'the first injected 503' });
    console.log(`[ratefault] ${(await nk(['-n', ns, 'get', 'fault', 'echo', '-o', 'wide'])).stdout.trim()}`);
    const before = await statSum('app=caller', 'aborts_injected');
    const r = await send('/', 100, 4);
    const pct = (100 * (r.by['503'] ?? 0)) / 400;
    const injected = (await statSum('app=caller', 'aborts_injected')) - before;
    console.log(`[ratefault] abort 50 % over 400 requests: ${JSON.stringify(r.by)} (${pct.toFixed(1)} %); the caller's sidecar injected ${injected}`);
    expect((r.by['503'] ?? 0) + (r.by['200'] ?? 0)).toBe(400);
    expect(pct).toBeGreaterThanOrEqual(40);
    expect(pct).toBeLessThanOrEqual(60);
    expect(injected).toBe(r.by['503']);
    expect(wasAccepted).toBe(true);
    await nk(['-n', ns, 'delete', 'faultpolicy', 'echo']);
    await eventually(() => send('/', 20, 1), { until: (c) => c.by['200'] === 20, timeoutMs: 60_000, what: 'no faults once the policy is gone' });
  });
});
