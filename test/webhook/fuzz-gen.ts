// Seeded generator of AdmissionReview bodies for the fuzz test: pods from a small grammar
// (containers, named/numbered/invalid probe ports, weft annotations with good and bad values,
// hostNetwork, init containers, odd keys with ~ and /), then — for most cases — damage:
// truncation, a wrong type at a random path, a huge string, or a body that isn't a review.

export type Rand = () => number;

/** mulberry32: small, fast, good enough to drive a fuzzer, and reproducible from a seed. */
export function rng(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Case {
  readonly index: number;
  readonly kind: string;
  readonly body: string;
  /** The uid the response must echo (body parses and request.uid is a non-empty string). */
  readonly uid?: string;
  /** The parsed request, when the body is JSON. */
  readonly request?: unknown;
}

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}
function chance(r: Rand, p: number): boolean {
  return r() < p;
}

const ANNOTATIONS: [string, string[]][] = [
  ['weft.dev/inject', ['false', 'true', 'no']],
  ['weft.dev/exclude-inbound-ports', ['80', '8080, 9090', 'x,99999', '', '0']],
  ['weft.dev/exclude-outbound-ports', ['5432', '1,2,3', 'abc']],
  ['weft.dev/exclude-outbound-cidrs', ['10.0.0.0/8', 'fd00::/8,192.168.0.0/16', '300.0.0.0/8', '10.0.0.0/40']],
  ['weft.dev/proxy-cpu', ['500m', '2', 'lots', '1e3', '.5']],
  ['weft.dev/proxy-memory', ['1Gi', '64Mi', 'huge', '2e9']],
  ['weft.dev/proxy-log-level', ['debug', 'loud', 'off']],
  ['prometheus.io/scrape', ['true', 'false']],
  ['weft.dev/status', ['{}']],
  ['odd~key/with/slashes', ['v']],
];

function probe(r: Rand): Record<string, unknown> {
  const kind = r();
  if (kind < 0.15) return { tcpSocket: { port: pick(r, [8080, 'http']) } };
  if (kind < 0.2) return { exec: { command: ['true'] } };
  const httpGet: Record<string, unknown> = { port: pick(r, [8080, 'http', 'admin', '9090', 0, -1, 70000, 'nope']) };
  if (chance(r, 0.8)) httpGet.path = pick(r, ['/healthz', 'ready', '', '/a b?x=1', '/~/%2F']);
  if (chance(r, 0.3)) httpGet.scheme = pick(r, ['HTTP', 'HTTPS', 'http']);
  if (chance(r, 0.2)) httpGet.host = pick(r, ['127.0.0.1', 'localhost']);
  if (chance(r, 0.2)) httpGet.httpHeaders = [{ name: 'X-Probe', value: pick(r, ['1', 'a/b']) }];
  const p: Record<string, unknown> = { httpGet };
  if (chance(r, 0.3)) p.timeoutSeconds = pick(r, [1, 5, 30, 0, 1e12]);
  if (chance(r, 0.2)) p.periodSeconds = 10;
  return p;
}

function container(r: Rand, name: string): Record<string, unknown> {
  const c: Record<string, unknown> = { name, image: `example/${name}:1` };
  if (chance(r, 0.7)) c.ports = [{ containerPort: 8080, name: 'http' }, ...(chance(r, 0.5) ? [{ containerPort: 9090, name: 'admin', protocol: 'TCP' }] : [])];
  for (const f of ['livenessProbe', 'readinessProbe', 'startupProbe']) if (chance(r, 0.35)) c[f] = probe(r);
  if (chance(r, 0.1)) c.securityContext = { runAsNonRoot: true };
  return c;
}

export function randomPod(r: Rand, namespace: string): Record<string, unknown> {
  const names = ['app', 'web', 'worker', 'log-shipper', 'weft-proxy'];
  const count = 1 + Math.floor(r() * 3);
  const used = new Set<string>();
  const containers = [];
  for (let i = 0; i < count; i++) {
    const n = chance(r, 0.03) ? 'weft-proxy' : pick(r, names.slice(0, 4));
    const name = used.has(n) ? `${n}-${i}` : n;
    used.add(name);
    containers.push(container(r, name));
  }
  const annotations: Record<string, string> = {};
  for (const [k, vs] of ANNOTATIONS) if (chance(r, k === 'weft.dev/inject' || k === 'weft.dev/status' ? 0.05 : 0.15)) annotations[k] = pick(r, vs);
  const metadata: Record<string, unknown> = chance(r, 0.5) ? { name: 'p' } : { generateName: 'p-' };
  if (chance(r, 0.7)) metadata.namespace = namespace;
  if (chance(r, 0.7)) metadata.labels = { app: pick(r, ['web', 'api']), ...(chance(r, 0.3) ? { 'mesh.weft.dev/zone': 'a' } : {}) };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  const spec: Record<string, unknown> = { containers };
  if (chance(r, 0.08)) spec.hostNetwork = true;
  if (chance(r, 0.2)) spec.initContainers = [{ name: 'setup', image: 'busybox' }];
  if (chance(r, 0.2)) spec.volumes = [{ name: 'data', emptyDir: {} }];
  if (chance(r, 0.1)) spec.securityContext = { fsGroup: 2000 };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

const WRONG: unknown[] = [null, 42, -1.5, true, '', 'x', [], [1, 'a'], {}, { nested: { deep: [null] } }];

/** Replaces one random node (not the root) of `doc` with a value of a random wrong type. */
function corrupt(r: Rand, doc: unknown): void {
  let node = doc;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof node !== 'object' || node === null) return;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) return;
    const key = pick(r, keys as (string | number)[]);
    const child = (node as Record<string | number, unknown>)[key];
    if (typeof child !== 'object' || child === null || chance(r, 0.3)) {
      (node as Record<string | number, unknown>)[key] = pick(r, WRONG);
      return;
    }
    node = child;
  }
}

export function randomReview(r: Rand, index: number): Case {
  const namespace = pick(r, ['shop', 'shop', 'shop', 'web', 'plain', 'kube-system', 'weft-system', 'nowhere']);
  const request: Record<string, unknown> = {
    uid: `uid-${index}`,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace,
    operation: chance(r, 0.95) ? 'CREATE' : 'UPDATE',
    object: randomPod(r, namespace),
  };
  if (chance(r, 0.1)) request.dryRun = true;
  const review: Record<string, unknown> = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
  const damage = r();
  let kind = 'valid';
  let body: string;
  if (damage < 0.45) {
    body = JSON.stringify(review);
  } else if (damage < 0.6) {
    kind = 'truncated';
    const full = JSON.stringify(review);
    body = full.slice(0, Math.floor(r() * full.length));
  } else if (damage < 0.85) {
    kind = 'wrong-type';
    corrupt(r, review);
    body = JSON.stringify(review);
  } else if (damage < 0.9) {
    kind = 'huge-string';
    const big = 'x'.repeat(pick(r, [10_000, 200_000, 1_000_000, 4_000_000]));
    if (chance(r, 0.5)) request.uid = big;
    else ((request.object as { metadata: Record<string, unknown> }).metadata ??= {}).name = big;
    body = JSON.stringify(review);
  } else if (damage < 0.95) {
    kind = 'not-a-review';
    body = JSON.stringify(pick(r, [null, 7, 'AdmissionReview', [review], { request: 'x' }, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }]));
  } else {
    kind = 'garbage';
    body = pick(r, ['', '{', '}', 'null', '\u0000\u0001', '{"a":1}{"b":2}', '[]', 'true']);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { index, kind, body };
  }
  const uid = (parsed as { request?: { uid?: unknown } } | null)?.request?.uid;
  return { index, kind, body, request: (parsed as { request?: unknown } | null)?.request, ...(typeof uid === 'string' && uid.length > 0 ? { uid } : {}) };
}
