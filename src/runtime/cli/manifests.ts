// The -f files of `weftctl analyze` and `weftctl preview`: the documents Weft reads (other
// kinds, such as Deployments, are not Weft's to judge and are skipped), Namespaces for their
// labels, and every problem named by file, document and field.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONFIG_KINDS, objectId, parseObject, type ConfigObject } from '../../api/objects.ts';
import { finding, type Finding } from '../../analyze/findings.ts';

const YAML_FILE = /\.(ya?ml|json)$/;

export interface FileRead {
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
export function readManifests(paths: readonly string[], namespace: string): FileRead {
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
export function overlay(cluster: readonly ConfigObject[], files: readonly ConfigObject[]): ConfigObject[] {
  const ids = new Set(files.map(objectId));
  return [...cluster.filter((o) => !ids.has(objectId(o))), ...files];
}
