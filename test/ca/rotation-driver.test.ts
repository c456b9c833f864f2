// The rotation driver on a real XdsSecurity (SDS secrets, xDS serving certificate) and an
// in-memory store, with streams described as the ADS server describes them: it advances only
// when every proxy ACKed the versions the current secrets have, re-issues certificates from
// the new key, finishes with the new material alone, and a new driver (a restart, another
// replica) continues from the recorded phase.
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRootCa, loadCa, type CaMaterial } from '../../src/ca/authority.ts';
import type { RotationState } from '../../src/ca/root-rotation.ts';
import { splitCertificates } from '../../src/ca/pem.ts';
import type { ReplicaReport, RotationStore } from '../../src/identity/ca-dir.ts';
import { log } from '../../src/base/log.ts';
import { RootRotation, rotationAcks, type RotationStatus } from '../../src/runtime/root-rotation.ts';
import { withReplicas } from '../../src/runtime/root-rotation-acks.ts';
import { reportKey } from '../../src/runtime/controller/ca-rotation.ts';
import { createXdsSecurity, type XdsSecurity } from '../../src/runtime/xds-security.ts';
import type { StreamDebug } from '../../xds/server/stream-debug.ts';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET } from '../../xds/resources/names.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { decodeSecret } from '../sds/support.ts';
import { ManualClock } from '../support/manual-clock.ts';

const ID = 'spiffe://cluster.local/ns/shop/sa/web';

function memoryStore(current: CaMaterial): RotationStore & { m: { current: CaMaterial; next?: CaMaterial; state?: RotationState } } {
  const m: { current: CaMaterial; next?: CaMaterial; state?: RotationState } = { current };
  return {
    m,
    load: async () => ({ ...m }),
    save: async (s) => void (m.state = s),
    finish: async (next) => {
      m.current = next;
      delete m.next;
      delete m.state;
    },
  };
}

/** A stream of one proxy of ID that ACKed `acked` (name → version) of its two secrets. */
function stream(id: string, acked: Record<string, string>, identity: string | null = ID): StreamDebug {
  return {
    stream: id,
    protocol: 'sotw',
    proxy: { id, kind: 'sidecar', namespace: 'shop', labels: {}, capture: false, ...(identity ? { identity } : {}) },
    group: 'g',
    connectedSince: new Date(0).toISOString(),
    types: [
      {
        typeUrl: TypeUrl.Secret,
        subscribed: [TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET],
        versionSent: 'v',
        versionAcked: 'v',
        acked: new Map(Object.entries(acked).map(([k, version]) => [k, { version }])),
      },
    ],
  };
}

const fp = (pem: string) => splitCertificates(pem).map((b) => new X509Certificate(b).fingerprint256);

let security: XdsSecurity | undefined;
afterEach(() => security?.close());

describe('RootRotation', () => {
  it('trust → sign → retire → done, each after every proxy ACKed the current secrets', async () => {
    const [old, next] = await Promise.all([createRootCa({ commonName: 'old' }), createRootCa({ commonName: 'new' })]);
    const oldCa = loadCa(old, { trustDomain: 'cluster.local' });
    if (!oldCa.ok) throw new Error('old');
    security = await createXdsSecurity({ ca: oldCa.ca, log });
    const sec = security;
    expect(sec.secretsFor(ID)).toHaveLength(1); // the bundle; asking starts the certificate's issuance
    await vi.waitFor(() => expect(sec.secretsFor(ID)).toHaveLength(2));
    const store = memoryStore(old);
    let streams: StreamDebug[] = [];
    const driver = new RootRotation({ store, security: sec, streams: () => streams, trustDomain: 'cluster.local', log, settleMs: 0 });
    const ackAll = () => {
      const want = sec.expected(ID);
      streams = [stream('web-1', { [TRUST_BUNDLE_SECRET]: want.bundle, [WORKLOAD_CERT_SECRET]: want.cert ?? '' }), stream('plain', {}, null)];
    };
    const phase = (): RotationStatus => sec.status().rotation as RotationStatus;
    const bundleRoots = () => fp(decodeSecret(sec.secretsFor(ID)[0]!).trustedCa ?? '');
    const issuer = () => {
      const chain = decodeSecret(sec.secretsFor(ID)[1]!).chainPem ?? '';
      return new X509Certificate(splitCertificates(chain)[0]!);
    };

    await driver.pass();
    expect(phase().phase).toBe('idle');
    ackAll();
    const before = sec.expected(ID);

    store.m.next = next;
    await driver.pass();
    // Trust: the bundle holds both roots; the proxy still holds the one-root bundle → wait.
    expect(store.m.state?.phase).toBe('trust');
    expect(bundleRoots()).toEqual([...fp(old.certPem), ...fp(next.certPem)]);
    expect(sec.expected(ID).bundle).not.toBe(before.bundle);
    expect(phase()).toMatchObject({ phase: 'trust', proxies: 1, acked: 0, lagging: ['web-1'] });
    expect(issuer().verify(new X509Certificate(old.certPem).publicKey)).toBe(true);

    ackAll();
    await driver.pass();
    expect(store.m.state?.phase).toBe('sign');
    await driver.pass();
    // Sign: every certificate re-issued from the new key; the old one ACKed does not count.
    expect(issuer().verify(new X509Certificate(next.certPem).publicKey)).toBe(true);
    expect(sec.expected(ID).currentSigner).toBe(true);
    expect(phase()).toMatchObject({ phase: 'sign', acked: 0 });
    // The xDS server keeps its old chain until retire (bootstraps with the old root reconnect).
    const servingSerial = sec.status().serving.serial;

    ackAll();
    await driver.pass();
    expect(store.m.state?.phase).toBe('retire');
    await driver.pass();
    expect(bundleRoots()).toEqual(fp(next.certPem));
    expect(sec.status().serving.serial).not.toBe(servingSerial);
    expect(phase()).toMatchObject({ phase: 'retire', acked: 0 });

    // A restart here: a new driver continues from the recorded phase (after settling). (It
    // registers its own status with the security; the first driver's is read directly below.)
    const restarted = new RootRotation({ store, security: sec, streams: () => streams, trustDomain: 'cluster.local', log, settleMs: 60_000 });
    ackAll();
    await restarted.pass();
    expect(store.m.state?.phase).toBe('retire');
    expect(restarted.status().waiting).toMatch(/reconnect/);

    await driver.pass();
    expect(store.m.state?.phase).toBe('done');
    await driver.pass();
    expect(store.m.current).toBe(next);
    expect(store.m.next).toBeUndefined();
    expect(driver.status().phase).toBe('done');
    expect(driver.status().history?.map((h) => h.phase)).toEqual(['trust', 'sign', 'retire', 'done']);
    await driver.pass();
    expect(driver.status().phase).toBe('done');
  });

  it('waits for a proxy that disconnected during the rotation, until a grace period passed', async () => {
    const [old, next] = await Promise.all([createRootCa(), createRootCa()]);
    const oldCa = loadCa(old, { trustDomain: 'cluster.local' });
    if (!oldCa.ok) throw new Error('old');
    security = await createXdsSecurity({ ca: oldCa.ca, log });
    const sec = security;
    sec.secretsFor(ID);
    await vi.waitFor(() => expect(sec.secretsFor(ID)).toHaveLength(2));
    const store = memoryStore(old);
    store.m.next = next;
    let streams: StreamDebug[] = [stream('web-1', {}), stream('web-2', {})];
    const clock = new ManualClock();
    const driver = new RootRotation({
      store,
      security: sec,
      streams: () => streams,
      trustDomain: 'cluster.local',
      log,
      settleMs: 0,
      absentGraceMs: 60_000,
      clock,
    });
    await driver.pass();
    expect(driver.status()).toMatchObject({ phase: 'trust', proxies: 2, acked: 0 });
    // web-2 loses its xDS stream (it may still serve traffic with the one-root bundle); web-1 ACKs.
    const want = sec.expected(ID);
    streams = [stream('web-1', { [TRUST_BUNDLE_SECRET]: want.bundle, [WORKLOAD_CERT_SECRET]: want.cert ?? '' })];
    await driver.pass();
    expect(driver.status()).toMatchObject({ phase: 'trust', proxies: 2, acked: 1, lagging: ['web-2 (disconnected)'] });
    clock.advance(61_000);
    await driver.pass();
    expect(store.m.state?.phase).toBe('sign');
  });

  it('refuses invalid next material by field, and changes nothing', async () => {
    const old = await createRootCa();
    const oldCa = loadCa(old, { trustDomain: 'cluster.local' });
    if (!oldCa.ok) throw new Error('old');
    security = await createXdsSecurity({ ca: oldCa.ca, log });
    const store = memoryStore(old);
    const other = await createRootCa();
    store.m.next = { certPem: (await createRootCa()).certPem, keyPem: other.keyPem };
    const driver = new RootRotation({ store, security, streams: () => [], trustDomain: 'cluster.local', log, settleMs: 0 });
    await expect(driver.pass()).rejects.toThrow(/next CA: keyPem: the private key does not match/);
    expect(store.m.state).toBeUndefined();
  });
});

describe('rotationAcks', () => {
  it('counts proxies with an identity; one that never subscribed to secrets holds nothing to update', () => {
    const want = { bundle: 'b2', cert: 'c2', currentSigner: true };
    const s = [stream('a', { ROOTCA: 'b2', default: 'c2' }), stream('b', { ROOTCA: 'b1', default: 'c2' }), stream('c', {}, null)];
    const bare: StreamDebug = { ...stream('d', {}), types: [] };
    expect(rotationAcks([...s, bare], () => want, 'sign')).toMatchObject({ proxies: 3, current: 2, lagging: ['b'] });
    // In trust, a certificate from the old key is still current; from sign on it is not.
    const oldKey = { ...want, currentSigner: false };
    expect(rotationAcks([stream('a', { ROOTCA: 'b2', default: 'c2' })], () => oldKey, 'trust').current).toBe(1);
    expect(rotationAcks([stream('a', { ROOTCA: 'b2', default: 'c2' })], () => oldKey, 'sign').current).toBe(0);
  });
});

describe('withReplicas', () => {
  const state = { phase: 'sign', next: 'N', startedAt: 0, phaseSince: 0, history: [] } as const;
  const own = { proxies: 2, current: 2, lagging: [] };
  const report = (replica: string, extra: Partial<ReplicaReport> = {}): ReplicaReport => ({
    replica,
    phase: 'sign',
    next: 'N',
    proxies: 3,
    acked: 3,
    at: 1_000,
    ...extra,
  });

  it("adds every other replica's recent report; its own and stale ones are ignored", () => {
    const r = withReplicas(state, own, [report('a', { proxies: 99, acked: 0 }), report('b'), report('c', { at: 10, acked: 0 })], { self: 'a', since: 500 });
    expect(r).toEqual({ proxies: 5, current: 5, lagging: [] });
  });

  it('counts a replica behind (another phase or another rotation) as not ACKed, at least one proxy', () => {
    const r = withReplicas(state, own, [report('b', { phase: 'trust' }), report('c', { next: 'OLD', proxies: 0, acked: 0 }), report('d', { acked: 1 })], {
      self: 'a',
      since: 0,
    });
    expect(r).toEqual({ proxies: 2 + 3 + 1 + 3, current: 2 + 1, lagging: ['replica b (still trust)', 'replica c (still sign)', '2 on replica d'] });
  });

  it('holds while a live replica has not reported (it may serve proxies on the old secrets)', () => {
    const r = withReplicas(state, own, [report('b'), report('c', { at: 10 })], { self: 'a', since: 500, peers: ['a', 'b', 'c', 'd'] });
    expect(r).toEqual({ proxies: 2 + 3 + 1 + 1, current: 2 + 3, lagging: ['replica c (no report yet)', 'replica d (no report yet)'] });
  });
});

describe('reportKey', () => {
  it('makes an annotation name of any replica name', () => {
    expect(reportKey('weft-controller-7d9f-abc12')).toBe('ca-rotation.weft.dev/weft-controller-7d9f-abc12');
    expect(reportKey('host_name:123')).toBe('ca-rotation.weft.dev/host_name-123');
    expect(reportKey(`-${'x'.repeat(80)}`)).toMatch(/^ca-rotation\.weft\.dev\/x{62}$/);
    expect(reportKey('--')).toBe('ca-rotation.weft.dev/replica');
  });
});
