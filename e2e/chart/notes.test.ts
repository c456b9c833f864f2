// The chart's out-of-cluster NOTES, followed literally against the real API server: the
// commands `helm get notes` prints are run as printed (bash, kubectl on PATH, an admin
// kubeconfig in $KUBECONFIG, `weft` on PATH), and what they set up must work: the local
// controller authenticates as the chart's ServiceAccount with a token its kubeconfig mints
// again when it expires, the API server reaches its webhook over TLS it trusts (the leader
// wrote caBundle), a Pod is injected. Then `helm uninstall` leaves exactly what the NOTES
// say it leaves (the CA Secret, the Lease), and their removal command removes it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { forbiddenLines } from '../controller/support/controller-process.ts';
import { apply, cluster, eventually, helm, kubectl, kubectlJson, repoRoot, run, tempNamespace, toYaml, uniqueName } from '../support/kube.ts';
import { freePorts } from '../../test/support/free-port.ts';

// Contains "weft", so the chart's fullname (and its ServiceAccount) is the release name.
const release = uniqueName('weft-notes');
const confine = { 'weft.dev/e2e-release': release };
const work = mkdtempSync(join(tmpdir(), 'weft-notes-'));

let cpNs = '';
let notes = '';
let shellEnv: Record<string, string> = {};
let controller: ChildProcess | undefined;
let output = '';
let monitoringPort = 0;

/** The NOTES' command lines from the line that starts with `start` up to, not including, `stop`. */
function commands(start: RegExp, stop?: RegExp): string {
  const lines = notes.split('\n');
  const from = lines.findIndex((l) => start.test(l));
  const to = stop ? lines.findIndex((l, i) => i > from && stop.test(l)) : lines.length;
  expect(from, `NOTES line ${String(start)}`).toBeGreaterThanOrEqual(0);
  return lines.slice(from, to < 0 ? lines.length : to).join('\n');
}

const sh = (script: string) => run('bash', ['-euo', 'pipefail', '-c', script], { env: shellEnv, timeoutMs: 60_000 });

beforeAll(async () => {
  const c = await cluster();
  cpNs = await tempNamespace('weft-notes-sys', confine);
  const [webhookPort, xdsPort, monPort] = await freePorts(3);
  monitoringPort = monPort ?? 0;
  const values = join(work, 'values.yaml');
  writeFileSync(
    values,
    toYaml({
      controlPlane: { external: { enabled: true, webhookUrl: `https://127.0.0.1:${webhookPort}` } },
      webhooks: { namespaceSelector: { matchLabels: confine } },
      ports: { xds: xdsPort, monitoring: monPort },
      // The cluster is shared: this release's controller minds only its own namespaces.
      controller: { extraArgs: [`--discovery-selector=weft.dev/e2e-release=${release}`] },
    }),
  );
  await helm(['install', release, join(repoRoot, 'charts/weft'), '-n', cpNs, '-f', values]);
  notes = (await helm(['get', 'notes', release, '-n', cpNs])).stdout;
  // What the NOTES assume of the shell: kubectl and weft on PATH, kubectl reaching the cluster.
  const bin = join(work, 'bin');
  const weft = join(bin, 'weft');
  await run('mkdir', ['-p', bin]);
  writeFileSync(weft, `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'bin/weft.js')}" "$@"\n`);
  chmodSync(weft, 0o755);
  shellEnv = { KUBECONFIG: c.kubeconfig, PATH: `${bin}:${dirname(c.kubectl)}:${process.env.PATH ?? ''}`, HOME: work };
  await run('ln', ['-sf', c.kubectl, join(bin, 'kubectl')]);
}, 900_000); // may start the cluster (e2e/cluster/up.sh)

afterAll(async () => {
  controller?.kill('SIGKILL');
  await helm(['uninstall', release, '-n', cpNs, '--wait'], { allowFailure: true });
});

describe('the out-of-cluster NOTES, followed literally', () => {
  it('write a kubeconfig that authenticates as the chart ServiceAccount with a token minted on demand', async () => {
    await sh(`cd ${work}\n${commands(/^\s*# 1\./, /^\s*weft controller /)}`);
    const who = await sh(`cd ${work} && kubectl --kubeconfig weft.kubeconfig auth whoami -o jsonpath='{.status.userInfo.username}'`);
    expect(who.stdout).toBe(`system:serviceaccount:${cpNs}:${release}`);
    // The exec credential carries its expiry, so a client asks for a new token when it passes.
    const kubeconfig = parseYaml(readFileSync(join(work, 'weft.kubeconfig'), 'utf8')) as { users: { user: { exec: { command: string; args: string[] } } }[] };
    const exec = kubeconfig.users[0]?.user.exec;
    expect(exec?.command).toBe('kubectl');
    const cred = await run('kubectl', exec?.args ?? [], { env: shellEnv });
    const parsed = JSON.parse(cred.stdout) as { kind: string; status: { token: string; expirationTimestamp: string } };
    expect(parsed.kind).toBe('ExecCredential');
    const ttl = Date.parse(parsed.status.expirationTimestamp) - Date.now();
    expect(ttl).toBeGreaterThan(50 * 60_000);
    expect(ttl).toBeLessThanOrEqual(61 * 60_000);
  });

  it('run a controller the API server reaches over trusted TLS: a Pod in a labelled namespace is injected', async () => {
    const cmd = commands(/^\s*weft controller /).trim();
    controller = spawn('bash', ['-c', `cd ${work} && exec ${cmd}`], { env: { ...shellEnv, WEFT_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    controller.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    controller.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      async () => {
        if (controller?.exitCode !== null) throw new Error(`weft controller exited:\n${output.slice(-3000)}`);
        const r = await fetch(`http://127.0.0.1:${monitoringPort}/readyz`).catch(() => undefined);
        return r?.status === 200;
      },
      { timeoutMs: 120_000, until: (ok) => ok, what: 'weft controller ready' },
    );
    const app = await tempNamespace('weft-notes-app', { 'weft.dev/inject': 'enabled', ...confine });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'weft.test/app:1' }] } };
    // Until the leader has written caBundle the API server answers x509: unknown authority.
    await eventually(
      async () => {
        const r = await apply(pod, { namespace: app, allowFailure: true });
        if (r.code !== 0) throw new Error(`apply: ${r.stderr.trim()}`);
        const p = await kubectlJson<{ spec: { containers: { name: string }[]; initContainers?: { name: string }[] } }>(['get', 'pod', 'web', '-n', app]);
        const names = [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c) => c.name);
        if (!names.includes('weft-proxy')) {
          throw new Error(
            `not injected (containers ${names.join(',')}); controller log:\n${output
              .split('\n')
              .filter((l) => /inject|webhook|warn|error/i.test(l))
              .slice(-15)
              .join('\n')}`,
          );
        }
        return true;
      },
      { timeoutMs: 60_000, until: (ok) => ok, what: 'the Pod injected through the local webhook' },
    );
    expect(forbiddenLines(output)).toEqual([]);
    // Listening where the NOTES say, not on every interface.
    const listening = await run('ss', ['-Hltnp']);
    const mine = listening.stdout.split('\n').filter((l) => l.includes(`pid=${controller?.pid ?? -1},`));
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const l of mine) expect(l, 'bound to loopback').toMatch(/\s127\.0\.0\.1:\d+\s/);
  }, 240_000); // the controller's first start (CA, informers) on a loaded machine

  it('say what helm uninstall leaves (the CA Secret and the Lease), and how to remove it', async () => {
    controller?.kill('SIGTERM');
    await new Promise((r) => controller?.once('exit', r));
    await helm(['uninstall', release, '-n', cpNs, '--wait']);
    const left = await kubectl(['get', 'secret/weft-root-ca', 'lease/weft-controller', '-n', cpNs, '-o', 'name']);
    expect(left.stdout.trim().split('\n').sort()).toEqual(['lease.coordination.k8s.io/weft-controller', 'secret/weft-root-ca']);
    await sh(commands(/^\s*kubectl delete -n \S+ secret\/weft-root-ca lease\//, /^\s*$/));
    const after = await kubectl(['get', 'secret,lease', '-n', cpNs, '-o', 'name']);
    expect(after.stdout.trim()).toBe('');
  });
});
