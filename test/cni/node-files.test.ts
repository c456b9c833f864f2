// What the weft-cni DaemonSet does to a node's CNI directories, on temporary ones: the plugin
// copied and runnable from the bin dir, weft-cni chained last into the first conflist, kept
// there when the primary CNI rewrites the file, and uninstall leaving the configuration byte
// for byte as it was. HOST_FILES is checked against cni-main.ts's real import closure.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupName, primaryConfFile, withoutPlugin, withPlugin } from '../../src/runtime/cni/conflist.ts';
import { chainConf, HOST_FILES, installPlugin, removePlugin, unchainConf } from '../../src/runtime/cni/node-files.ts';

const repo = resolve(import.meta.dirname, '../..');
// Deliberately not JSON.stringify's layout: restoring must give back these exact bytes.
const ORIGINAL = `{
  "cniVersion": "1.0.0", "name": "weft",
  "plugins": [{
    "type": "bridge", "bridge": "weft0",
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]]}
  }]
}
`;

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((n) => [n, `${(statSync(join(dir, n)).mode & 0o7777).toString(8)} ${readFileSync(join(dir, n), 'utf8')}`]));
}

describe('the node CNI configuration', () => {
  let conf: string;
  beforeEach(() => {
    conf = mkdtempSync(join(tmpdir(), 'weft-cni-conf-'));
    writeFileSync(join(conf, '10-weft.conflist'), ORIGINAL);
    chmodSync(join(conf, '10-weft.conflist'), 0o644);
    writeFileSync(join(conf, '99-other.conflist'), '{"plugins": []}');
    writeFileSync(join(conf, 'README'), 'not a config');
  });
  afterEach(() => rmSync(conf, { recursive: true, force: true }));

  it('picks the first configuration file in name order, as the runtime does', () => {
    expect(primaryConfFile(['99-b.conflist', 'README', '10-a.conf', '.10-x.conflist.weft-cni-orig', '05-c.json'])).toBe('05-c.json');
    expect(primaryConfFile(['README'])).toBeUndefined();
  });

  it('chains weft-cni last with the pod-annotations capability, idempotently, and restores the exact bytes', async () => {
    const before = snapshot(conf);
    expect(await chainConf(conf, { logFile: '/var/log/weft-cni.log' })).toEqual({ state: 'chained', file: '10-weft.conflist', changed: true });
    const chained = JSON.parse(readFileSync(join(conf, '10-weft.conflist'), 'utf8')) as { plugins: { type: string }[] };
    expect(chained.plugins.map((p) => p.type)).toEqual(['bridge', 'weft-cni']);
    expect(chained.plugins[1]).toEqual({ type: 'weft-cni', logFile: '/var/log/weft-cni.log', capabilities: { 'io.kubernetes.cri.pod-annotations': true } });
    expect(readFileSync(join(conf, backupName('10-weft.conflist')), 'utf8')).toBe(ORIGINAL);
    expect(await chainConf(conf, { logFile: '/var/log/weft-cni.log' })).toMatchObject({ changed: false });
    expect(readFileSync(join(conf, '99-other.conflist'), 'utf8')).toBe('{"plugins": []}');

    expect(await unchainConf(conf)).toEqual(['10-weft.conflist']);
    expect(snapshot(conf)).toEqual(before);
  });

  it('puts weft-cni back when the primary CNI rewrites its file, and then uninstall removes only weft-cni', async () => {
    await chainConf(conf, {});
    const rewritten = ORIGINAL.replace('weft0', 'weft1');
    writeFileSync(join(conf, '10-weft.conflist'), rewritten);
    expect(await chainConf(conf, {})).toMatchObject({ changed: true });
    expect(readFileSync(join(conf, backupName('10-weft.conflist')), 'utf8')).toBe(rewritten);
    await unchainConf(conf);
    expect(readFileSync(join(conf, '10-weft.conflist'), 'utf8')).toBe(rewritten);

    // Changed behind our back while chained: only our entry goes.
    await chainConf(conf, {});
    const text = readFileSync(join(conf, '10-weft.conflist'), 'utf8').replace('weft1', 'weft2');
    writeFileSync(join(conf, '10-weft.conflist'), text);
    await unchainConf(conf);
    const left = JSON.parse(readFileSync(join(conf, '10-weft.conflist'), 'utf8')) as { plugins: { type: string; bridge?: string }[] };
    expect(left.plugins).toEqual([expect.objectContaining({ type: 'bridge', bridge: 'weft2' })]);
    expect(readdirSync(conf).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('waits while there is no configuration, and refuses a file without a plugin list', async () => {
    rmSync(join(conf, '10-weft.conflist'));
    rmSync(join(conf, '99-other.conflist'));
    expect(await chainConf(conf, {})).toMatchObject({ state: 'waiting' });
    expect(() => withPlugin('{"type": "bridge"}', '10-a.conf', {})).toThrow(/not a CNI conflist/);
    expect(withoutPlugin(ORIGINAL, 'x.conflist', undefined)).toBe(ORIGINAL);
  });
});

describe('the plugin files', () => {
  let bin: string;
  beforeEach(() => (bin = mkdtempSync(join(tmpdir(), 'weft-cni-bin-'))));
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  it('HOST_FILES is exactly cni-main.ts and what it imports', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      const rel = relative(repo, file);
      if (seen.has(rel)) return;
      seen.add(rel);
      for (const m of readFileSync(file, 'utf8').matchAll(/^import [^;]*? from '(\.[^']+)';/gms)) visit(resolve(dirname(file), m[1] ?? ''));
    };
    visit(join(repo, 'src/capture/cni-main.ts'));
    expect([...seen].sort()).toEqual([...HOST_FILES].sort());
  });

  it('installs a weft-cni executable that answers VERSION with no repository around it, and removes it', async () => {
    await installPlugin({ binDir: bin, confDir: '/nonexistent', appDir: repo, nodeBinary: process.execPath });
    expect(readdirSync(bin).sort()).toEqual(['weft-cni', 'weft-cni.d']);
    const out = execFileSync(join(bin, 'weft-cni'), { input: '{"cniVersion":"1.0.0"}', env: { CNI_COMMAND: 'VERSION' }, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ cniVersion: '1.0.0', supportedVersions: expect.arrayContaining(['1.0.0', '1.1.0']) });
    await installPlugin({ binDir: bin, confDir: '/nonexistent', appDir: repo, nodeBinary: process.execPath }); // again: replaced whole
    expect(readdirSync(bin).sort()).toEqual(['weft-cni', 'weft-cni.d']);
    await removePlugin(bin);
    expect(readdirSync(bin)).toEqual([]);
  });
});
