// `weftctl analyze`: gather the input (cluster, files, or both), run the pure checks
// (src/analyze), print. Errors set exit status 1 so CI can gate on it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseAllDocuments } from 'yaml';
import { CONFIG_KINDS, objectId, parseObject, type ConfigObject } from '../../api/objects.ts';
import { analyze } from '../../analyze/analyze.ts';
import { finding, type Finding } from '../../analyze/findings.ts';
import { errorMessage } from '../../base/errors.ts';
import { KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import type { AnalyzeFlags } from './analyze-flags.ts';
import { readCluster, type ClusterRead } from './cluster-read.ts';
import { processIo, type CliIo } from './flags.ts';
import { INJECT_LABEL, INJECT_LABEL_VALUE } from '../../../webhook/values.ts';

const YAML_FILE = /\.(ya?ml|json)$/;

interface FileRead {
  objects: ConfigObject[];
  namespaces: { name: string; labels: Readonly<Record<string, string>> }[];
  findings: Finding[];
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => YAML_FILE.test(f))
    .sort()
    .map((f) => join(path, f));
}

/**
 * The documents of the -f files Weft reads; other kinds (Deployments, Kustomizations) are not
 * Weft's to judge and are skipped. Namespaces give the namespace checks their labels. An
 * object without a namespace lands in `namespace`, as `kubectl apply -n` would put it.
 */
function readFiles(paths: readonly string[], namespace: string): FileRead {
  const out: FileRead = { objects: [], namespaces: [], findings: [] };
  for (const file of paths.flatMap(filesUnder)) {
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, i) => {
      const where = `${file}#${i}`;
      if (doc.errors.length) {
        out.findings.push(finding('invalidObject', where, `(yaml): ${doc.errors[0]!.message.split('\n')[0]}`));
        return;
      }
      const raw: unknown = doc.toJS({ maxAliasCount: 100 });
      if (typeof raw !== 'object' || raw === null) return;
      const r = raw as { kind?: unknown; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };
      if (r.kind === 'Namespace' && typeof r.metadata?.name === 'string') {
        out.namespaces.push({ name: r.metadata.name, labels: r.metadata.labels ?? {} });
        return;
      }
      if (typeof r.kind !== 'string' || !(CONFIG_KINDS as readonly string[]).includes(r.kind)) return;
      const parsed = parseObject({ ...r, metadata: { namespace, ...r.metadata } });
      if (parsed.ok) out.objects.push(parsed.object);
      else out.findings.push(finding('invalidObject', where, parsed.problems.map((p) => `${p.field}: ${p.reason}`).join('; ')));
    });
  }
  return out;
}

/** Files win over the cluster's copy of the same object: the check is of the state after apply. */
function overlay(cluster: readonly ConfigObject[], files: readonly ConfigObject[]): ConfigObject[] {
  const ids = new Set(files.map(objectId));
  return [...cluster.filter((o) => !ids.has(objectId(o))), ...files];
}

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
  let cluster: ClusterRead = { objects: [], invalid: [], skipped: [] };
  let namespace: string | undefined = flags['all-namespaces'] ? undefined : flags.namespace;
  if (!flags.local) {
    try {
      const kc = loadKubeConfig(flags.kubeconfig);
      if (!flags['all-namespaces']) namespace ??= kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      cluster = await readCluster(new KubeClient(kc), {
        ...(namespace === undefined ? {} : { namespace }),
        controlPlaneNamespace: flags['control-plane-namespace'],
      });
    } catch (err) {
      io.stderr(
        `weftctl analyze: cannot read the cluster: ${errorMessage(err)}\n  check --kubeconfig and that the API server is reachable${flags.filename.length ? ', or add --local to check the files alone' : ''}\n`,
      );
      return 2;
    }
  }
  const files = readFiles(flags.filename, namespace ?? 'default');
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
