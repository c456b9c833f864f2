// The chart's in-cluster Deployment runs `weft controller` with exactly these args and
// environment: every flag and variable must be accepted (exit 2 would be a usage error),
// including the secure defaults (TLS xDS on 0.0.0.0, webhook on 0.0.0.0:9443). With no
// API server to reach the controller gets as far as loading the CA from its Secret.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helmOffline, repoRoot } from '../support/kube.ts';

interface Deployment {
  kind: string;
  spec: { template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } } };
}

describe("the chart's controller command line", () => {
  it.each([[[]], [['--set', 'ca.existingSecret=corp-intermediate', '--set', 'workloadCertTtl=1h']]])('is accepted as rendered (%j)', async (set) => {
    const r = await helmOffline(['template', 'weft', join(repoRoot, 'charts/weft'), '--namespace', 'weft-system', ...set]);
    const deploy = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Deployment | null)
      .find((d) => d?.kind === 'Deployment');
    const c = deploy?.spec.template.spec.containers[0];
    if (!c) throw new Error('no controller container');
    const env = Object.fromEntries(c.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    const dir = mkdtempSync(join(tmpdir(), 'weft-chart-args-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'x',
          clusters: [{ name: 'x', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'x', user: { token: 'none' } }],
          contexts: [{ name: 'x', context: { cluster: 'x', user: 'x' } }],
        }),
      );
      const out = spawnSync(process.execPath, [join(repoRoot, 'src/runtime/cli/weft.ts'), ...c.args, `--kubeconfig=${kubeconfig}`], {
        env: { ...process.env, ...env, WEFT_LOG_LEVEL: 'silent', VITEST: '' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(out.status, out.stderr).toBe(1);
      const secret = set.length ? 'corp-intermediate' : 'weft-root-ca';
      expect(out.stderr).toContain(`weft controller: CA Secret weft-system/${secret}:`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
