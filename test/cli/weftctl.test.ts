// The real `weftctl` binary (bin/weftctl.js): help, flag mistakes (exit 2), and `analyze` on
// files alone (--local) — exit 1 on errors so CI can gate on it, the table and JSON outputs,
// other kinds in the files skipped, an unreachable API server named with what to do.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/weftctl.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weftctl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, env: { ...process.env, KUBECONFIG: '' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const dir = await mkdtemp(join(tmpdir(), 'weftctl-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const shop = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {weft.dev/inject: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-v1}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-v2}
spec: {ports: [{name: http, port: 8080}]}
`;
const split = (backends: string) => `apiVersion: mesh.weft.dev/v1alpha1
kind: TrafficSplit
metadata: {name: web}
spec: {service: web, backends: ${backends}}
`;

describe('weftctl binary', { timeout: 120_000 }, () => {
  it('--help lists the commands; an unknown command exits 2', async () => {
    const top = await weftctl('--help');
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toMatch(/^usage: weftctl <command>/);
    for (const cmd of ['check', 'status', 'config', 'analyze', 'describe', 'preview', 'bootstrap']) expect(top.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    const bad = await weftctl('nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('weftctl: unknown command "nope"');
  });

  it('status and config: -n with -A, a missing or unknown section, a non-http --debug-url exit 2', async () => {
    expect((await weftctl('status', '-n', 'a', '-A')).stderr).toContain('weftctl status: -n and -A exclude each other');
    for (const args of [['config'], ['config', 'web', 'bogus'], ['config', 'web', 'routes', 'extra']]) {
      const r = await weftctl(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^weftctl config: usage: weftctl config POD\|PROXY-ID \[clusters\|listeners\|routes\|endpoints\|secrets\]/);
    }
    const url = await weftctl('status', '--debug-url', 'ftp://x');
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('--debug-url: must be an http:// or https:// URL');
  });

  it('flag mistakes name the flag, exit 2', async () => {
    const r = await weftctl('analyze', '--local');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('weftctl analyze: --local needs -f');
    const both = await weftctl('analyze', '-A', '-n', 'shop');
    expect(both.stderr).toContain('-n and -A exclude each other');
    const output = await weftctl('analyze', '-o', 'xml', '--local', '-f', dir);
    expect(output.stderr).toContain('--output: must be table, json or yaml');
  });

  it('analyze --local: a split whose backend lacks the root port is an error (exit 1), with a fix', async () => {
    await writeFile(join(dir, 'shop.yaml'), shop);
    await writeFile(join(dir, 'split.yaml'), split('[{service: web-v1, weight: 90}, {service: web-v2, weight: 10}]'));
    const r = await weftctl('analyze', '--local', '-n', 'shop', '-f', dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^CODE +SEVERITY +OBJECT +MESSAGE$/m);
    expect(r.stdout).toMatch(/^WEFT0006 +Error +TrafficSplit shop\/web +backend shop\/web-v2 has no HTTP port 80 of shop\/web/m);
    expect(r.stdout).toMatch(/^ +fix: Give the backend Service the same HTTP port number/m);
    expect(r.stdout).toContain('1 error, 0 warnings');
    expect(r.stdout).not.toContain('Deployment'); // not Weft's to judge
  });

  it('analyze -o json: the findings as data; a clean change exits 0', async () => {
    await writeFile(join(dir, 'split.yaml'), split('[{service: web-v1, weight: 90}, {service: web-v3, weight: 10}]'));
    const r = await weftctl('analyze', '--local', '-n', 'shop', '-f', dir, '-o', 'json');
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as { findings: { code: string; object: string; fix: string }[] };
    expect(body.findings.map((f) => [f.code, f.object])).toEqual([['WEFT0004', 'TrafficSplit shop/web']]);
    await writeFile(join(dir, 'split.yaml'), split('[{service: web-v1, weight: 100}]'));
    const ok = await weftctl('analyze', '--local', '-n', 'shop', '-f', dir);
    expect(ok).toMatchObject({ code: 0, stdout: 'No problems found.\n' });
  });

  it('an invalid document is reported by file, document and field', async () => {
    await writeFile(join(dir, 'split.yaml'), split('[{service: web-v1, weight: -1}]'));
    const r = await weftctl('analyze', '--local', '-n', 'shop', '-f', join(dir, 'split.yaml'), '-o', 'json');
    const body = JSON.parse(r.stdout) as { findings: { code: string; object: string; message: string }[] };
    expect(body.findings[0]).toMatchObject({ code: 'WEFT0001', object: `${join(dir, 'split.yaml')}#0` });
    expect(body.findings[0]!.message).toMatch(/^spec\.backends\[0\]\.weight: /);
  });

  it('an unreachable API server: one line naming what to do, exit 2', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: t}}]\n`,
    );
    const r = await weftctl('analyze', '--kubeconfig', kubeconfig, '-f', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^weftctl analyze: cannot read the cluster: .*\n {2}check --kubeconfig and that the API server is reachable, or add --local to use the files alone\n$/,
    );
  });
});
