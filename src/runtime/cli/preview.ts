// `weftctl preview`: gather the before/after objects and the meshed Pods, diff the Envoy config
// (src/runtime/config-preview.ts), print. Exit 1 when a candidate object is invalid.
import { stringify } from 'yaml';
import type { ConfigObject } from '../../api/objects.ts';
import { spiffeId } from '../../ca/spiffe.ts';
import { buildModel, workloadFacts } from '../../model/build.ts';
import type { PolicyStatus } from '../../model/types.ts';
import type { ProxyInfo } from '../../../xds/resources/proxy.ts';
import { preview, type Preview } from '../config-preview.ts';
import { readClusterOrReport, type ClusterRead } from './cluster-read.ts';
import { processIo, type CliIo } from './flags.ts';
import { overlay, readManifests } from './manifests.ts';
import type { PreviewFlags } from './preview-flags.ts';

function proxiesOf(cluster: ClusterRead, namespace: string | undefined, trustDomain: string, fallback: string): ProxyInfo[] {
  const pods = (cluster.pods ?? []).filter((p) => p.sidecar && (namespace === undefined || p.namespace === namespace));
  if (pods.length === 0) {
    // Nothing meshed yet (or --local): show what a sidecar in the namespace would get.
    const ns = namespace ?? fallback;
    return [{ id: `${ns}/(a new sidecar)`, kind: 'sidecar', namespace: ns, labels: {}, capture: true, identity: spiffeId(trustDomain, ns, 'default') }];
  }
  return pods.map((p) => ({
    id: `${p.namespace}/${p.name}`,
    kind: 'sidecar',
    namespace: p.namespace,
    labels: p.labels ?? {},
    capture: true,
    identity: spiffeId(trustDomain, p.namespace, p.serviceAccount),
  }));
}

function value(v: unknown): string {
  const text = JSON.stringify(v);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function formatPreview(p: Preview, statuses: readonly PolicyStatus[]): string {
  const lines: string[] = [];
  for (const st of statuses) {
    const acc = st.conditions.find((c) => c.type === 'Accepted');
    lines.push(`${st.kind} ${st.key}: ${acc ? `${acc.reason} — ${acc.message}` : 'no status'}`);
  }
  if (statuses.length) lines.push('');
  if (p.groups.length === 0) lines.push('No proxy configuration changes.');
  const mark = { added: '+', changed: '~', removed: '-' } as const;
  for (const g of p.groups) {
    const shown = g.proxies.slice(0, 5).join(', ');
    lines.push(
      `${g.proxies.length} ${g.proxies.length === 1 ? 'proxy' : 'proxies'}: ${shown}${g.proxies.length > 5 ? `, ... (+${g.proxies.length - 5})` : ''}`,
    );
    for (const c of g.changes) {
      lines.push(`  ${mark[c.change]} ${c.type} ${c.name}`);
      for (const op of c.patch ?? []) lines.push(`      ${op.op} ${op.path}${'value' in op ? ` = ${value(op.value)}` : ''}`);
    }
  }
  if (p.unaffected) lines.push(`${p.unaffected} ${p.unaffected === 1 ? 'proxy' : 'proxies'} unaffected`);
  return `${lines.join('\n')}\n`;
}

const keyOf = (o: ConfigObject): string => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;

export async function previewWith(flags: PreviewFlags, io: CliIo = processIo): Promise<number> {
  const read = await readClusterOrReport('preview', flags, io);
  if (typeof read === 'number') return read;
  const { cluster, namespace } = read;
  const files = readManifests(flags.filename, namespace ?? 'default');
  if (files.findings.length) {
    for (const f of files.findings) io.stderr(`weftctl preview: ${f.object}: ${f.message}\n`);
    return 1;
  }
  const workloads = (cluster.pods ?? []).map((p) => workloadFacts(p));
  const opts = { controlPlaneNamespace: flags['control-plane-namespace'], workloads };
  const before = buildModel(cluster.objects, opts);
  const after = buildModel(overlay(cluster.objects, files.objects), opts);
  const fallback = files.objects[0]?.metadata.namespace ?? 'default';
  const result = preview(before, after, proxiesOf(cluster, namespace, flags['trust-domain'], fallback));
  const candidates = new Set(files.objects.map(keyOf));
  const statuses = after.statuses.filter((s) => candidates.has(`${s.kind} ${s.key}`));
  if (flags.output === 'json') io.stdout(`${JSON.stringify({ statuses, ...result }, null, 2)}\n`);
  else if (flags.output === 'yaml') io.stdout(stringify({ statuses, ...result }));
  else io.stdout(formatPreview(result, statuses));
  for (const s of cluster.skipped) io.stderr(`weftctl preview: skipped ${s}; the preview does not include it\n`);
  return 0;
}
