// The root-rotation phase machine (pure, time as a number), the material of each phase, the
// recorded state, and the CA directory's rotation files.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRootCa, loadCa, type CaMaterial } from '../../src/ca/authority.ts';
import {
  advance,
  parseRotationState,
  rootsOf,
  servingMaterial,
  signingFingerprint,
  startRotation,
  unionBundle,
  workloadMaterial,
  type RotationState,
} from '../../src/ca/root-rotation.ts';
import { splitCertificates } from '../../src/ca/pem.ts';
import { CA_FILE, caDirRotationStore, caFromDir, NEXT_CA_FILE, ROTATION_FILE } from '../../src/identity/ca-dir.ts';

const fingerprints = (pem: string) => splitCertificates(pem).map((b) => new X509Certificate(b).fingerprint256);
const all = (proxies: number) => ({ applied: true, proxies, current: proxies });

describe('advance', () => {
  const t0 = 1_000_000;
  const s0 = startRotation('AB:CD', t0);

  it('starts in trust and waits for the material, then for every proxy, then for the soak', () => {
    expect(s0).toMatchObject({ phase: 'trust', startedAt: t0, phaseSince: t0, next: 'AB:CD', history: [{ phase: 'trust', since: t0 }] });
    expect(advance(s0, { applied: false, proxies: 0, current: 0 }, t0 + 5_000)).toMatchObject({ moved: false, waiting: 'trust: material not in service yet' });
    expect(advance(s0, { applied: true, proxies: 3, current: 2 }, t0 + 5_000)).toMatchObject({ moved: false, waiting: 'trust: 2/3 proxies ACKed' });
    expect(advance(s0, all(3), t0 + 1_000, { soakMs: 10_000 })).toMatchObject({ moved: false, waiting: 'trust: soaking 9 s more' });
  });

  it('walks trust → sign → retire → done, recording how long each phase lasted', () => {
    let s: RotationState = s0;
    const seen: string[] = [];
    for (const at of [t0 + 3_000, t0 + 10_000, t0 + 12_500]) {
      const r = advance(s, all(2), at, { soakMs: 2_000 });
      expect(r.moved).toBe(true);
      s = r.state;
      seen.push(s.phase);
    }
    expect(seen).toEqual(['sign', 'retire', 'done']);
    expect(s.history).toEqual([
      { phase: 'trust', since: t0, ms: 3_000, proxies: 2 },
      { phase: 'sign', since: t0 + 3_000, ms: 7_000, proxies: 2 },
      { phase: 'retire', since: t0 + 10_000, ms: 2_500, proxies: 2 },
      { phase: 'done', since: t0 + 12_500 },
    ]);
    expect(advance(s, all(2), t0 + 99_000)).toMatchObject({ moved: false, waiting: 'rotation finished', state: s });
  });

  it('moves with no proxy connected (nothing to wait for), never while one lags', () => {
    expect(advance(s0, all(0), t0).moved).toBe(true);
    expect(advance(s0, { applied: true, proxies: 1, current: 0 }, t0 + 86_400_000).moved).toBe(false);
  });

  it('round-trips the recorded state and refuses anything else', () => {
    const s = (advance(s0, all(1), t0 + 1) as { state: RotationState }).state;
    expect(parseRotationState(JSON.stringify(s))).toEqual(s);
    for (const bad of ['', '{', '{"phase":"later"}', JSON.stringify({ ...s, startedAt: 'now' }), 'null']) expect(parseRotationState(bad)).toBeUndefined();
  });
});

describe('the material of each phase', () => {
  it('trusts old + new until retire; signs workloads with the new key from sign on; serves the old chain until retire', async () => {
    const [old, next] = await Promise.all([createRootCa({ commonName: 'old' }), createRootCa({ commonName: 'new' })]);
    const [oldRoot, newRoot] = [fingerprints(old.certPem)[0], fingerprints(next.certPem)[0]];
    const check = (m: CaMaterial, signer: CaMaterial, roots: (string | undefined)[]) => {
      expect(signingFingerprint(m)).toBe(signingFingerprint(signer));
      expect(fingerprints(m.trustBundlePem ?? '')).toEqual(roots);
      expect(loadCa(m, { trustDomain: 'cluster.local' }).ok).toBe(true);
    };
    check(workloadMaterial('trust', old, next), old, [oldRoot, newRoot]);
    check(workloadMaterial('sign', old, next), next, [oldRoot, newRoot]);
    check(workloadMaterial('retire', old, next), next, [newRoot]);
    check(servingMaterial('trust', old, next), old, [oldRoot, newRoot]);
    check(servingMaterial('sign', old, next), old, [oldRoot, newRoot]);
    check(servingMaterial('retire', old, next), next, [newRoot]);
    expect(fingerprints(unionBundle(old, old, next, old))).toEqual([oldRoot, newRoot]);
  });

  it('takes an intermediate with its chain: the roots are its self-signed top, or the bundle given', async () => {
    const corp = loadCa(await createRootCa({ commonName: 'corp' }), { trustDomain: 'cluster.local' });
    if (!corp.ok) throw new Error('corp');
    const inter = await corp.ca.issueIntermediate({ commonName: 'mesh' });
    expect(rootsOf({ certPem: inter.certPem, keyPem: inter.keyPem }).map((c) => c.fingerprint256)).toEqual(fingerprints(corp.ca.trustBundlePem));
    const old = await createRootCa();
    const sign = workloadMaterial('sign', old, inter);
    const ca = loadCa(sign, { trustDomain: 'cluster.local' });
    if (!ca.ok) throw new Error(JSON.stringify(ca.errors));
    const svid = await ca.ca.issueSvid({ namespace: 'shop', serviceAccount: 'web' });
    if (!svid.ok) throw new Error(svid.reason);
    // The chain handed to proxies carries the intermediate (never a root).
    expect(splitCertificates(svid.cert.chainPem)).toHaveLength(2);
  });
});

describe('the CA directory during a rotation', () => {
  it('records the phase, answers the new key with both roots to bootstrap, and finishes with the new material alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-rot-'));
    const created = await caFromDir(dir, { trustDomain: 'cluster.local', create: true });
    if (!created.ok) throw new Error(created.error);
    const store = caDirRotationStore(dir);
    const next = await createRootCa({ commonName: 'next' });
    await writeFile(join(dir, NEXT_CA_FILE), next.certPem + next.keyPem, { mode: 0o600 });
    const loaded = await store.load();
    expect(loaded.state).toBeUndefined();
    expect(loaded.next?.certPem).toBe(next.certPem);

    // No recorded phase yet: bootstrap still gets the current CA.
    expect((await caFromDir(dir, { trustDomain: 'cluster.local', create: false })) as { ca: { certPem: string } }).toMatchObject({
      ca: { certPem: created.ca.certPem },
    });
    const state = startRotation(signingFingerprint(next), Date.now());
    await store.save(state);
    expect((await store.load()).state).toEqual(state);
    const during = await caFromDir(dir, { trustDomain: 'cluster.local', create: false });
    if (!during.ok) throw new Error(during.error);
    expect(during.ca.certPem).toBe(next.certPem);
    expect(fingerprints(during.ca.trustBundlePem)).toEqual([...fingerprints(created.ca.trustBundlePem), ...fingerprints(next.certPem)]);
    // serve applies the phase itself.
    const serve = await caFromDir(dir, { trustDomain: 'cluster.local', create: false, rotation: false });
    expect(serve.ok && serve.ca.certPem).toBe(created.ca.certPem);

    await store.finish(next);
    expect((await readdir(dir)).sort()).toEqual([CA_FILE]);
    const after = await caFromDir(dir, { trustDomain: 'cluster.local', create: false });
    if (!after.ok) throw new Error(after.error);
    expect(after.ca.certPem).toBe(next.certPem);
    expect(fingerprints(after.ca.trustBundlePem)).toEqual(fingerprints(next.certPem));
    expect(ROTATION_FILE).toMatch(/json$/);
  });
});
