// `weftctl analyze`: gather the input (cluster, files, or both), run the pure checks
// (src/analyze), print. Errors set exit status 1 so CI can gate on it.
import { stringify } from 'yaml';
import { analyze } from '../../analyze/analyze.ts';
import { finding, type Finding } from '../../analyze/findings.ts';
import { overlay, readManifests } from './manifests.ts';
import type { AnalyzeFlags } from './analyze-flags.ts';
import { readClusterOrReport } from './cluster-read.ts';
import { processIo, type CliIo } from './flags.ts';
import { INJECT_LABEL, INJECT_LABEL_VALUE } from '../../../webhook/values.ts';

function inScope(f: Finding, namespace: string | undefined): boolean {
  if (namespace === undefined) return true;
  const m = /^\S+ ([^/\s]+)\//.exec(f.object);
  return m === null || m[1] === namespace;
}

export function formatTable(findings: readonly Finding[], skipped: readonly string[]): string {
  const lines: string[] = [];
  if (findings.length === 0) lines.push('No problems found.');
  else {
    const w = (k: 'code' | 'severity' | 'object') => Math.max(k.length, ...findings.map((f) => f[k].length)) + 2;
    const [wc, ws, wo] = [w('code'), w('severity'), w('object')];
    lines.push(`${'CODE'.padEnd(wc)}${'SEVERITY'.padEnd(ws)}${'OBJECT'.padEnd(wo)}MESSAGE`);
    for (const f of findings) {
      lines.push(`${f.code.padEnd(wc)}${f.severity.padEnd(ws)}${f.object.padEnd(wo)}${f.message}`);
      lines.push(`${' '.repeat(wc + ws + wo)}fix: ${f.fix}`);
    }
    const errors = findings.filter((f) => f.severity === 'Error').length;
    lines.push('', `${errors} error${errors === 1 ? '' : 's'}, ${findings.length - errors} warning${findings.length - errors === 1 ? '' : 's'}`);
  }
  for (const s of skipped) lines.push(`skipped: could not read ${s}; the checks that need it did not run`);
  return `${lines.join('\n')}\n`;
}

export async function analyzeWith(flags: AnalyzeFlags, io: CliIo = processIo): Promise<number> {
  const read = await readClusterOrReport('analyze', flags, io);
  if (typeof read === 'number') return read;
  const { cluster, namespace } = read;
  const files = readManifests(flags.filename, namespace ?? 'default');
  // Namespaces from the files (labels as they will be) over the cluster's; Pods only from the cluster.
  const fileNs = new Map(files.namespaces.map((n) => [n.name, n]));
  const namespaces = cluster.namespaces?.map((n) =>
    fileNs.has(n.name) ? { ...n, meshed: fileNs.get(n.name)!.labels[INJECT_LABEL] === INJECT_LABEL_VALUE } : n,
  );
  const found = [
    ...cluster.invalid.map((i) => finding('invalidObject', i.object, i.problems.map((p) => `${p.field}: ${p.reason}`).join('; '))),
    ...files.findings,
    ...analyze({
      objects: overlay(cluster.objects, files.objects),
      ...(namespaces && cluster.pods ? { namespaces, pods: cluster.pods } : {}),
      // A cluster has every EndpointSlice; files alone rarely do (controllers write them).
      endpointsKnown: !flags.local,
      controlPlaneNamespace: flags['control-plane-namespace'],
    }),
  ].filter((f) => inScope(f, namespace));
  if (flags.output === 'json') io.stdout(`${JSON.stringify({ findings: found, skipped: cluster.skipped }, null, 2)}\n`);
  else if (flags.output === 'yaml') io.stdout(stringify({ findings: found, skipped: cluster.skipped }));
  else io.stdout(formatTable(found, cluster.skipped));
  return found.some((f) => f.severity === 'Error') ? 1 : 0;
}
