// Pure part of the file source: one file's text (plus what it served last time) → the
// objects it serves now and its problems; then all files → one ConfigState. The rule
// that matters: a broken edit never removes config that was serving.
import { parseAllDocuments } from 'yaml';
import { objectId, parseObject, type ConfigObject } from '../api/objects.ts';
import type { ConfigProblem, ConfigState } from './source.ts';
import { errorMessage } from '../base/errors.ts';
import { compareStrings } from '../base/order.ts';

/** An object a file serves, with the document it came from. */
export interface FileEntry {
  readonly object: ConfigObject;
  readonly doc: number;
}

export interface FileOutcome {
  readonly entries: readonly FileEntry[];
  readonly problems: readonly ConfigProblem[];
  /** Objects kept from the last good version because their document broke. */
  readonly kept: readonly string[];
}

/** Identity of a document that failed validation, when it still says who it is. */
function rawId(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { kind, metadata } = raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof kind !== 'string' || typeof metadata?.name !== 'string') return undefined;
  const ns = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  return `${kind} ${ns}/${metadata.name}`;
}

export function evaluateFile(file: string, text: string, lastGood: readonly FileEntry[]): FileOutcome {
  const docs = parseAllDocuments(text);
  const syntax = docs.flatMap((d, i) => d.errors.map((e) => ({ i, e })));
  if (syntax.length) {
    // Document boundaries are unreliable in a file that does not parse: keep it all.
    const problems = syntax.map(({ i, e }) => ({
      source: `${file}#${i}`,
      field: '(yaml)',
      reason: `${e.message.split('\n')[0]}; still serving the last good version of ${file}`,
    }));
    return { entries: lastGood, problems, kept: lastGood.map((e) => objectId(e.object)) };
  }
  const entries: FileEntry[] = [];
  const problems: ConfigProblem[] = [];
  const invalid: { doc: number; id: string | undefined }[] = [];
  const ids = new Set<string>();
  docs.forEach((d, doc) => {
    const source = `${file}#${doc}`;
    let raw: unknown;
    try {
      raw = d.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({ source, field: '(yaml)', reason: errorMessage(err) });
      invalid.push({ doc, id: undefined });
      return;
    }
    if (raw === null || raw === undefined) return; // empty document, e.g. a trailing `---`
    const res = parseObject(raw);
    if (!res.ok) {
      problems.push(...res.problems.map((p) => ({ source, ...p })));
      invalid.push({ doc, id: rawId(raw) });
      return;
    }
    const id = objectId(res.object);
    if (ids.has(id)) {
      problems.push({ source, field: 'metadata.name', reason: `duplicate ${id} in ${file}; the first one is used` });
      return;
    }
    ids.add(id);
    entries.push({ object: res.object, doc });
  });
  // A document that broke keeps serving its last good object, found by identity, or by
  // position when the edit broke the identity itself.
  const kept: string[] = [];
  for (const { doc, id } of invalid) {
    const previous = lastGood.find((e) => (id ? objectId(e.object) === id : e.doc === doc));
    if (!previous) continue;
    const prevId = objectId(previous.object);
    if (ids.has(prevId)) continue; // a valid document now defines it
    ids.add(prevId);
    entries.push({ object: previous.object, doc });
    kept.push(prevId);
    problems.push({ source: `${file}#${doc}`, field: '(document)', reason: `invalid; still serving the last good version of ${prevId}` });
  }
  return { entries, problems, kept };
}

/** All files, sorted by name → one state; on duplicates across files the first file wins. */
export function mergeFiles(files: readonly (readonly [string, FileOutcome])[], extra: readonly ConfigProblem[] = []): ConfigState {
  const sorted = [...files].sort(([a], [b]) => compareStrings(a, b));
  const owner = new Map<string, string>();
  const objects: [string, ConfigObject][] = [];
  const problems: ConfigProblem[] = [...extra];
  for (const [file, outcome] of sorted) {
    problems.push(...outcome.problems);
    for (const { object, doc } of outcome.entries) {
      const id = objectId(object);
      const first = owner.get(id);
      if (first) {
        problems.push({ source: `${file}#${doc}`, field: 'metadata.name', reason: `duplicate ${id}, already defined in ${first}; ignored` });
        continue;
      }
      owner.set(id, `${file}#${doc}`);
      objects.push([id, object]);
    }
  }
  objects.sort(([a], [b]) => compareStrings(a, b));
  return { objects: objects.map(([, o]) => o), problems };
}
