// The injection suites' control plane: charts/weft installed in external mode (webhooks by
// URL to a local port, confined by a per-release namespace label so nothing else on the
// shared cluster is intercepted), and `weft controller` run as a child process with the
// chart ServiceAccount's token in secure mode (CA Secret, TLS xDS, webhook, caBundle).
// Plus the numbers: percentiles of samples and of a Prometheus histogram's delta.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type ControllerProcess } from '../controller/support/controller-process.ts';
import { eventually, helm, kubectl, kubectlJson, repoRoot, serviceAccountKubeconfig, tempNamespace, toYaml, uniqueName } from '../support/kube.ts';
import { freePort } from '../../test/support/free-port.ts';

export const RELEASE_LABEL = 'weft.dev/e2e-release';

export interface InjectEnv {
  readonly release: string;
  /** Control-plane (release) namespace. */
  readonly cpNs: string;
  /** Labels a namespace needs for this release's webhooks (besides weft.dev/inject=enabled). */
  readonly confine: Readonly<Record<string, string>>;
  readonly ctl: ControllerProcess;
  readonly mutating: string;
  readonly validating: string;
  close(): Promise<void>;
}

/** `chartValues` are merged at the top level into the chart values (e.g. `injection` images). */
export async function installAndRun(
  prefix: string,
  extraArgs: readonly string[] = [],
  chartValues: Readonly<Record<string, unknown>> = {},
): Promise<InjectEnv> {
  // Contains "weft", so the chart's fullname (and its ServiceAccount) is the release name.
  const release = uniqueName(prefix);
  const confine = { [RELEASE_LABEL]: release };
  const cpNs = await tempNamespace(`${prefix}-sys`, confine);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'weft-inject-'));
  const valuesFile = join(dir, 'values.yaml');
  writeFileSync(
    valuesFile,
    toYaml({
      controlPlane: { external: { enabled: true, webhookUrl: `https://127.0.0.1:${port}` } },
      webhooks: { namespaceSelector: { matchLabels: confine }, timeoutSeconds: 10 },
      ...chartValues,
    }),
  );
  await helm(['install', release, join(repoRoot, 'charts/weft'), '-n', cpNs, '-f', valuesFile]);
  const injectValues = join(dir, 'inject-values.json');
  const cm = await kubectlJson<{ data: Record<string, string> }>(['get', 'configmap', `${release}-inject-values`, '-n', cpNs]);
  writeFileSync(injectValues, cm.data['values.json'] ?? '{}');
  const kubeconfig = await serviceAccountKubeconfig(cpNs, release);
  const mutating = `${release}-inject`;
  const validating = `${release}-validate`;
  const ctl = await startController({
    kubeconfig,
    namespace: cpNs,
    identity: `${release}-0`,
    secure: true,
    readyTimeoutMs: 120_000,
    args: [
      '--webhook-address',
      `127.0.0.1:${port}`,
      '--inject-values',
      injectValues,
      '--mutating-webhook-configuration',
      mutating,
      '--validating-webhook-configuration',
      validating,
      '--discovery-selector',
      `${RELEASE_LABEL}=${release}`,
      '--lease-duration',
      '4s',
      '--renew-deadline',
      '3s',
      '--retry-period',
      '500ms',
      ...extraArgs,
    ],
  });
  return {
    release,
    cpNs,
    confine,
    ctl,
    mutating,
    validating,
    async close() {
      await ctl.stop();
      await helm(['uninstall', release, '-n', cpNs, '--ignore-not-found', '--wait'], { allowFailure: true });
      rmSync(dir, { recursive: true, force: true });
      rmSync(kubeconfig, { force: true }); // holds a token
    },
  };
}

/** The caBundle of every webhook in a configuration ('' when unset). */
export async function caBundles(kind: 'mutatingwebhookconfiguration' | 'validatingwebhookconfiguration', name: string): Promise<string[]> {
  const o = await kubectlJson<{ webhooks: { clientConfig: { caBundle?: string } }[] }>(['get', kind, name]);
  return o.webhooks.map((w) => w.clientConfig.caBundle ?? '');
}

/** Waits until the controller's cache knows `ns` is opted in: a server-side dry-run Pod comes back injected. */
export async function waitUntilInjecting(ns: string): Promise<void> {
  await eventually(() => kubectl(['get', 'serviceaccount', 'default', '-n', ns]), { what: `default ServiceAccount in ${ns}`, timeoutMs: 60_000 });
  const probe = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe' }, spec: { containers: [{ name: 'app', image: 'weft.test/app:1' }] } };
  await eventually(async () => (await kubectl(['create', '--dry-run=server', '-n', ns, '-f', '-', '-o', 'json'], { input: JSON.stringify(probe) })).stdout, {
    until: (out) => out.includes('"weft-proxy"'),
    what: `injection active in ${ns}`,
    timeoutMs: 30_000,
    intervalMs: 300,
  });
}

/** Nearest-rank percentile of samples (q in [0, 1]). */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/** Cumulative bucket counts `le → count` of one histogram series in a /metrics text. */
export function histogramBuckets(metrics: string, name: string, labels: string): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{(.*)\\} (\\S+)$`);
  for (const line of metrics.split('\n')) {
    const m = re.exec(line);
    if (!m || !m[1]?.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    if (le !== undefined) out.set(le === '+Inf' ? Infinity : Number(le), Number(m[2]));
  }
  return out;
}

/**
 * Quantile of the observations made between two scrapes, interpolated linearly inside
 * the bucket it falls in (Prometheus' histogram_quantile). Returns seconds.
 */
export function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): { value: number; count: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const count = delta.at(-1) ?? 0;
  const rank = q * count;
  for (let i = 0; i < bounds.length; i++) {
    if ((delta[i] ?? 0) >= rank) {
      const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
      const upper = bounds[i] ?? Infinity;
      if (upper === Infinity) return { value: lower, count };
      const below = i === 0 ? 0 : (delta[i - 1] ?? 0);
      const inBucket = (delta[i] ?? 0) - below;
      return { value: inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket, count };
    }
  }
  return { value: NaN, count };
}
