// The file store and bootstrap on real files: replicas racing to create the root end up with one.
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRootCa } from '../../src/ca/authority.ts';
import { bootstrapCa } from '../../src/ca/bootstrap.ts';
import { fileRootStore } from '../../src/ca/store.ts';

async function tmpPath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'weft-ca-')), 'ca', 'weft-root-ca.pem');
}

describe('fileRootStore', () => {
  it('is empty until created, then returns what was stored, key file mode 0600', async () => {
    const path = await tmpPath();
    const store = fileRootStore(path);
    expect(await store.load()).toBeUndefined();
    const m = await createRootCa();
    expect(await store.createIfAbsent(m)).toBe('created');
    expect(await store.load()).toEqual({ certPem: m.certPem, keyPem: m.keyPem });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await store.createIfAbsent(await createRootCa())).toBe('exists');
    expect((await store.load())?.certPem).toBe(m.certPem);
  });

  it('lets exactly one of several concurrent creators win', async () => {
    const path = await tmpPath();
    const materials = await Promise.all([createRootCa(), createRootCa(), createRootCa(), createRootCa()]);
    const outcomes = await Promise.all(materials.map((m) => fileRootStore(path).createIfAbsent(m)));
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    const text = await readFile(path, 'utf8');
    expect(materials.filter((m) => text.includes(m.certPem))).toHaveLength(1);
  });
});

describe('bootstrapCa', () => {
  it('creates, then loads; racing replicas adopt one root', async () => {
    const path = await tmpPath();
    const results = await Promise.all([1, 2, 3].map(() => bootstrapCa(fileRootStore(path), { trustDomain: 'cluster.local' })));
    const roots = new Set(results.map((r) => (r.ok ? r.ca.trustBundlePem : 'error')));
    expect(roots.size).toBe(1);
    expect(results.filter((r) => r.ok && r.source === 'created')).toHaveLength(1);
    const again = await bootstrapCa(fileRootStore(path), { trustDomain: 'cluster.local' });
    expect(again).toMatchObject({ ok: true, source: 'loaded' });
  });

  it('reports unusable stored material instead of replacing it', async () => {
    const path = await tmpPath();
    await fileRootStore(path).createIfAbsent(await createRootCa());
    await writeFile(path, 'not a pem');
    const r = await bootstrapCa(fileRootStore(path), { trustDomain: 'cluster.local' });
    expect(r.ok).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('not a pem');
  });

  it('does not create when creation is disabled (user-supplied CA expected)', async () => {
    const r = await bootstrapCa(fileRootStore(await tmpPath()), { trustDomain: 'cluster.local', createIfMissing: false });
    expect(r).toMatchObject({ ok: false, errors: [{ field: 'store' }] });
  });
});
