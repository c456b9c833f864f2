// Two injected workloads for the controller proofs, both from Weft's own controller image
// (it has Node 24, so no extra image is built): `echo` (a Deployment answering its Pod name on
// 8080 behind Service echo:80) and `loop` (a Pod that calls http://echo.<ns>.svc.cluster.local
// every 20 ms through its sidecar and prints one JSON line per second: {t, ok, fail, last}).
// countRequests() sums those lines over a time window read from `kubectl logs`.
import { expect } from 'vitest';
import { eventually } from '../../support/kube.ts';
import { napply, nk } from '../../node/support.ts';

const SERVER = `require('node:http').createServer((q, s) => s.end(process.env.HOSTNAME + '\\n')).listen(8080);`;

// One request at a time; a failure is a non-200, a reset or a 2 s timeout.
const LOOP = `
const url = process.env.TARGET; let ok = 0, fail = 0, last = '';
async function one() {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.text();
    if (r.status === 200) ok++; else { fail++; last = 'status ' + r.status; }
  } catch (e) { fail++; last = String(e?.cause?.code ?? e?.name ?? e); }
}
(async () => { for (;;) { await one(); await new Promise((r) => setTimeout(r, 20)); } })();
setInterval(() => { console.log(JSON.stringify({ t: Date.now(), ok, fail, last })); ok = 0; fail = 0; last = ''; }, 1000);
`;

/** A container running `node -e script` from `image`, non-root with no capabilities. */
export const nodeContainer = (image: string, name: string, script: string) => ({
  name,
  image,
  imagePullPolicy: 'IfNotPresent',
  command: ['node', '-e', script],
  securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
});

/** Deployment and Service `echo` (answers its Pod name on 8080; the Service on `servicePort`), rolled out. */
export async function deployEcho(namespace: string, image: string, replicas = 2, servicePort = 80): Promise<void> {
  await napply(
    [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'echo' },
        spec: {
          replicas,
          selector: { matchLabels: { app: 'echo' } },
          template: {
            metadata: { labels: { app: 'echo' } },
            spec: {
              terminationGracePeriodSeconds: 5,
              containers: [
                {
                  ...nodeContainer(image, 'echo', SERVER),
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'echo' },
        spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: servicePort, targetPort: 8080 }] },
      },
    ],
    namespace,
  );
  const r = await nk(['-n', namespace, 'rollout', 'status', 'deployment/echo', '--timeout=180s'], { timeoutMs: 200_000, allowFailure: true });
  if (r.code !== 0) {
    const pods = await nk(['-n', namespace, 'describe', 'pods'], { allowFailure: true });
    throw new Error(`echo in ${namespace} not ready: ${r.stderr}\n${pods.stdout.slice(-4000)}`);
  }
}

export async function startLoop(namespace: string, image: string, name = 'loop'): Promise<void> {
  await napply(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: name } },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [{ ...nodeContainer(image, 'app', LOOP), env: [{ name: 'TARGET', value: `http://echo.${namespace}.svc.cluster.local/` }] }],
      },
    },
    namespace,
  );
  await nk(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=180s'], { timeoutMs: 200_000 });
  // Traffic flows before anything is measured.
  await eventually(() => countRequests(namespace, Date.now() - 3000, Date.now(), name), {
    until: (c) => c.ok > 0,
    timeoutMs: 60_000,
    what: 'the loop succeeding',
  });
}

export interface Counts {
  ok: number;
  fail: number;
  seconds: number;
  lastErrors: string[];
}

/** Requests the loop counted in the one-second lines stamped within (from, to]. */
export async function countRequests(namespace: string, from: number, to: number, name = 'loop'): Promise<Counts> {
  const logs = await nk(['-n', namespace, 'logs', name, '-c', 'app']);
  const counts: Counts = { ok: 0, fail: 0, seconds: 0, lastErrors: [] };
  for (const line of logs.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const l = JSON.parse(line) as { t: number; ok: number; fail: number; last: string };
    if (l.t <= from || l.t > to) continue;
    counts.ok += l.ok;
    counts.fail += l.fail;
    counts.seconds++;
    if (l.last) counts.lastErrors.push(l.last);
  }
  return counts;
}

/** Waits until the loop has printed a line after `to` (so the window is complete), then counts it. */
export async function settledCount(namespace: string, from: number, name = 'loop'): Promise<Counts> {
  const to = Date.now();
  await eventually(() => countRequests(namespace, to, Date.now(), name), {
    until: (c) => c.seconds > 0,
    timeoutMs: 10_000,
    what: 'a loop line after the window',
  });
  const c = await countRequests(namespace, from, to, name);
  expect(c.seconds, 'the loop printed during the window').toBeGreaterThan(0);
  return c;
}

/** A Pod whose app container only idles (`kubectl exec` sends the requests from it), labelled app=<name>. */
export function idleClientPod(name: string, image: string, annotations: Record<string, string> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name }, annotations },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [nodeContainer(image, 'app', 'setInterval(() => {}, 1 << 30)')],
    },
  };
}
