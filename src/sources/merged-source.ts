// Several config sources seen as one: `weft serve --config-dir A --config-dir B`. The
// examples keep objects a real cluster accepts in one directory and the loopback
// EndpointSlices only a standalone demo can use in another (the API server rejects
// 127.0.0.1 endpoints), so `kubectl apply -f` and `weft serve` can both read the first.
// Level-based like its parts: every change re-merges the latest state of each source.
import { objectId, type ConfigObject } from '../api/objects.ts';
import type { ConfigProblem, ConfigSource, ConfigState } from './source.ts';
import { canonicalJson } from '../model/canonical.ts';

export class MergedSource implements ConfigSource {
  readonly #parts: readonly { readonly name: string; readonly source: ConfigSource }[];
  readonly #latest = new Map<number, ConfigState>();
  #onChange: ((state: ConfigState) => void) | undefined;
  #lastEmitted: string | undefined;
  #started = false;

  /** `name` prefixes each part's problem sources when there is more than one part. */
  constructor(parts: readonly { readonly name: string; readonly source: ConfigSource }[]) {
    this.#parts = parts;
  }

  async start(onChange: (state: ConfigState) => void): Promise<void> {
    this.#onChange = onChange;
    // Each part delivers its first state before its start() resolves; publish once all have.
    await Promise.all(this.#parts.map((p, i) => p.source.start((s) => this.#update(i, s))));
    this.#started = true;
    this.#publish();
  }

  async stop(): Promise<void> {
    this.#onChange = undefined;
    await Promise.all(this.#parts.map((p) => p.source.stop()));
  }

  #update(i: number, state: ConfigState): void {
    this.#latest.set(i, state);
    if (this.#started) this.#publish();
  }

  #publish(): void {
    const state = mergeStates(this.#parts.map((p, i) => ({ name: p.name, state: this.#latest.get(i) ?? { objects: [], problems: [] } })));
    const fingerprint = canonicalJson(state);
    if (fingerprint === this.#lastEmitted) return;
    this.#lastEmitted = fingerprint;
    this.#onChange?.(state);
  }
}

/** Pure: the parts in order → one state; an object defined by two parts comes from the first. */
export function mergeStates(parts: readonly { readonly name: string; readonly state: ConfigState }[]): ConfigState {
  const prefix = parts.length > 1;
  const owner = new Map<string, string>();
  const objects: [string, ConfigObject][] = [];
  const problems: ConfigProblem[] = [];
  for (const { name, state } of parts) {
    problems.push(...state.problems.map((p) => (prefix ? { ...p, source: `${name}/${p.source}` } : p)));
    for (const object of state.objects) {
      const id = objectId(object);
      const first = owner.get(id);
      if (first !== undefined) {
        problems.push({ source: name, field: 'metadata.name', reason: `duplicate ${id}, already defined in ${first}; ignored` });
        continue;
      }
      owner.set(id, name);
      objects.push([id, object]);
    }
  }
  objects.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { objects: objects.map(([, o]) => o), problems };
}
