// When injection must not happen, and how bad per-pod input degrades (warnings, not failures).
import { describe, expect, it } from 'vitest';
import { handleInject } from '../../webhook/admission.ts';
import { injectPod, type SkipReason } from '../../webhook/inject.ts';
import type { Pod } from '../../webhook/pod.ts';
import { parseInjectValues } from '../../webhook/values.ts';
import { podRequest, testContext, trustBundlePem } from './fixtures.ts';

function pod(extra: { annotations?: Record<string, string>; labels?: Record<string, string>; hostNetwork?: boolean; containers?: string[] } = {}): Pod {
  return {
    metadata: { name: 'p', ...(extra.annotations ? { annotations: extra.annotations } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { containers: (extra.containers ?? ['app']).map((name) => ({ name, image: 'x' })), ...(extra.hostNetwork ? { hostNetwork: true } : {}) },
  };
}

describe('skips', () => {
  const cases: [string, Pod, string, SkipReason][] = [
    ['unlabeled namespace', pod(), 'plain', 'namespace-not-enabled'],
    ['namespace unknown to the cache', pod(), 'nowhere', 'namespace-not-enabled'],
    ['opted out', pod({ annotations: { 'weft.dev/inject': 'false' } }), 'shop', 'opted-out'],
    ['opted out by label', pod({ labels: { 'weft.dev/inject': 'false' } }), 'shop', 'opted-out'],
    ['host network', pod({ hostNetwork: true }), 'shop', 'host-network'],
    ['kube-system even if labeled', pod(), 'kube-system', 'protected-namespace'],
    ['control plane namespace', pod(), 'weft-system', 'protected-namespace'],
    ['kube-node-lease', pod(), 'kube-node-lease', 'protected-namespace'],
  ];
  it.each(cases)('%s', (_name, p, ns, reason) => {
    const r = injectPod(p, ns, testContext());
    expect(r).toMatchObject({ skip: { reason } });
    if ('skip' in r) expect(r.skip.message.length).toBeGreaterThan(10);
  });

  it('leaves the input pod untouched when injecting', () => {
    const p = pod();
    const before = structuredClone(p);
    expect('pod' in injectPod(p, 'shop', testContext())).toBe(true);
    expect(p).toEqual(before);
  });

  it('answers non-Pod and non-CREATE requests without a patch', () => {
    const r = handleInject({ ...podRequest(pod() as Record<string, unknown>), operation: 'UPDATE' }, testContext());
    expect(r).toMatchObject({ result: 'skipped', reason: 'not-a-pod-create', response: { allowed: true } });
    expect(r.response.patch).toBeUndefined();
  });

  it('rejects a malformed pod with the field named', () => {
    const r = handleInject(podRequest({ spec: { containers: [{ image: 'x' }] } }), testContext());
    expect(r.result).toBe('invalid');
    if (r.result === 'invalid') expect(r.reason).toContain('request.object.spec.containers.0.name');
  });
});

// Issue 13 (Low): a Pod in a meshed namespace must not look injected without being so.
describe('injection cannot be dodged silently', () => {
  const withUid = (p: Pod, podUid?: number, containerUid?: number): Pod => ({
    ...p,
    spec: {
      ...p.spec,
      ...(podUid !== undefined ? { securityContext: { runAsUser: podUid } } : {}),
      containers: p.spec.containers.map((c) => (containerUid !== undefined ? { ...c, securityContext: { runAsUser: containerUid } } : c)),
    },
  });

  it('injects a Pod whose weft.dev/status annotation is forged, and rewrites the annotation', () => {
    const r = injectPod(pod({ annotations: { 'weft.dev/status': '{"containers":["weft-proxy"]}' } }), 'shop', testContext());
    if (!('pod' in r)) throw new Error(JSON.stringify(r));
    expect(r.pod.spec.initContainers?.map((c) => c.name)).toContain('weft-proxy');
    expect(JSON.parse(r.pod.metadata?.annotations?.['weft.dev/status'] ?? '{}')).toMatchObject({ initContainers: ['weft-init', 'weft-proxy'] });
    expect(r.warnings.join(' ')).toMatch(/weft.dev\/status annotation without the sidecar/);
  });

  it('denies a Pod with its own container named weft-proxy or weft-init, forged status or not', () => {
    for (const p of [
      pod({ containers: ['app', 'weft-proxy'] }),
      pod({ containers: ['weft-init', 'app'], annotations: { 'weft.dev/status': '{"initContainers":["weft-init"]}' } }),
    ]) {
      const r = injectPod(p, 'shop', testContext());
      expect(r).toMatchObject({ deny: { reason: 'injection-dodge', message: expect.stringMatching(/is not the sidecar this webhook injects/) } });
    }
    const h = handleInject(podRequest(pod({ containers: ['app', 'weft-proxy'] }) as Record<string, unknown>), testContext());
    expect(h).toMatchObject({
      result: 'denied',
      response: { allowed: false, status: { code: 403, message: expect.stringMatching(/^weft: container weft-proxy/) } },
    });
  });

  it('denies a Pod whose weft.dev/egress does not parse, naming the annotation and why; a valid one is admitted as is', () => {
    const h = handleInject(podRequest(pod({ annotations: { 'weft.dev/egress': 'shop/*, checkout' } }) as Record<string, unknown>), testContext());
    expect(h).toMatchObject({
      result: 'denied',
      reason: 'invalid-egress',
      response: {
        allowed: false,
        status: {
          code: 403,
          message:
            'weft: annotation weft.dev/egress: "checkout" is not <namespace>/<service> (use "./checkout" for a service of the proxy\'s own namespace) (docs/scale.md, "Egress scope")',
        },
      },
    });
    const ok = injectPod(pod({ annotations: { 'weft.dev/egress': 'shop/*, ./checkout' } }), 'shop', testContext());
    if (!('pod' in ok)) throw new Error(JSON.stringify(ok));
    expect(ok.pod.metadata?.annotations?.['weft.dev/egress']).toBe('shop/*, ./checkout');
    // Not injected (opted out): not Weft's to judge.
    expect(injectPod(pod({ annotations: { 'weft.dev/egress': 'bad', 'weft.dev/inject': 'false' } }), 'shop', testContext())).toMatchObject({
      skip: { reason: 'opted-out' },
    });
  });

  it('admits its own output unchanged (reinvocation, or a copy of an injected Pod)', () => {
    const first = injectPod(pod(), 'shop', testContext());
    if (!('pod' in first)) throw new Error(JSON.stringify(first));
    expect(injectPod(first.pod, 'shop', testContext())).toMatchObject({ skip: { reason: 'already-injected' } });
    // The same containers with a capture script that exempts more ports: not ours.
    const forged = structuredClone(first.pod);
    const init = forged.spec.initContainers?.find((c) => c.name === 'weft-init') as unknown as { args: string[] };
    init.args = [`${init.args[0]}\niptables -t nat -I WEFT_OUTPUT 1 -j RETURN`];
    expect(injectPod(forged, 'shop', testContext())).toMatchObject({ deny: { reason: 'injection-dodge' } });
  });

  it('CNI mode: admits its own output unchanged, denies a weft-validation whose capture settings were edited', () => {
    const ctx = testContext({ captureMode: 'cni' });
    const first = injectPod(pod(), 'shop', ctx);
    if (!('pod' in first)) throw new Error(JSON.stringify(first));
    expect(first.pod.spec.initContainers?.map((c) => c.name)).toEqual(['weft-validation', 'weft-proxy']);
    expect(injectPod(first.pod, 'shop', ctx)).toMatchObject({ skip: { reason: 'already-injected' } });
    const forged = structuredClone(first.pod);
    const v = forged.spec.initContainers?.find((c) => c.name === 'weft-validation') as unknown as { env: { value: string }[] };
    v.env[0]!.value = '{"excludeOutboundCidrs":["0.0.0.0/0"]}';
    expect(injectPod(forged, 'shop', ctx)).toMatchObject({ deny: { reason: 'injection-dodge' } });
    expect(injectPod(pod({ containers: ['app', 'weft-validation'] }), 'shop', ctx)).toMatchObject({ deny: { reason: 'injection-dodge' } });
  });

  it('denies an app running as the proxy’s uid 1337 (capture exempts it), from the Pod or the container', () => {
    for (const p of [withUid(pod(), 1337), withUid(pod(), undefined, 1337), withUid(pod(), 1000, 1337)]) {
      expect(injectPod(p, 'shop', testContext())).toMatchObject({ deny: { reason: 'injection-dodge', message: expect.stringMatching(/runs as uid 1337/) } });
    }
    expect('pod' in injectPod(withUid(pod(), 1337, 1000), 'shop', testContext())).toBe(true);
    expect(injectPod(withUid(pod({ annotations: { 'weft.dev/inject': 'false' } }), 1337), 'shop', testContext())).toMatchObject({
      skip: { reason: 'opted-out' },
    });
  });
});

describe('bad annotations become warnings', () => {
  it('ignores invalid ports, CIDRs, quantities and log levels, naming each', () => {
    const r = injectPod(
      pod({
        annotations: {
          'weft.dev/exclude-inbound-ports': '80,abc,70000',
          'weft.dev/exclude-outbound-cidrs': '10.0.0.0/33',
          'weft.dev/proxy-cpu': 'lots',
          'weft.dev/proxy-log-level': 'loud',
        },
      }),
      'shop',
      testContext(),
    );
    if (!('pod' in r)) throw new Error('skipped');
    expect(r.warnings).toHaveLength(5);
    expect(r.warnings.join('\n')).toMatch(/"abc".*\n.*"70000"/);
    const init = r.pod.spec.initContainers?.find((c) => c.name === 'weft-init') as { args: string[] } | undefined;
    expect(init?.args[0]).toContain('--dport 80 -j RETURN');
    const proxy = r.pod.spec.initContainers?.find((c) => c.name === 'weft-proxy') as { resources: unknown; args: string[] } | undefined;
    expect(proxy?.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(proxy?.args).toContain('warning');
  });

  it('raises the memory limit when an annotation asks for more than it', () => {
    const r = injectPod(pod({ annotations: { 'weft.dev/proxy-memory': '1Gi', 'weft.dev/proxy-cpu': '250m' } }), 'shop', testContext());
    if (!('pod' in r)) throw new Error('skipped');
    const proxy = r.pod.spec.initContainers?.find((c) => c.name === 'weft-proxy') as { resources: unknown } | undefined;
    expect(proxy?.resources).toEqual({ requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '1Gi' } });
  });
});

describe('values', () => {
  it('derives the xDS address from the control-plane namespace', () => {
    const r = parseInjectValues({ trustBundlePem, controlPlaneNamespace: 'mesh' });
    expect(r).toMatchObject({ ok: true, values: { xdsAddress: 'weft.mesh.svc:15012' } });
  });

  it('reports every invalid value by field', () => {
    const r = parseInjectValues({
      trustBundlePem: 'nope',
      excludeInboundPorts: [0],
      excludeOutboundCidrs: ['x'],
      proxyResources: { requests: { cpu: 'a lot' } },
      bogus: 1,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const text = r.errors.join('\n');
      for (const field of ['trustBundlePem', 'excludeInboundPorts.0', 'excludeOutboundCidrs.0', 'proxyResources.requests.cpu']) expect(text).toContain(field);
    }
  });
});
