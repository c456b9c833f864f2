// A controllable config source for server tests: each `set` publishes a new model version
// whose generated resources are exactly what the test says (optionally per proxy).
import type { MeshModel } from '../../../src/model/types.ts';
import type { ProxyInfo } from '../../../xds/resources/proxy.ts';
import { SnapshotCache, type ConsistencyCheck } from '../../../xds/snapshot/cache.ts';
import type { ResourceSet } from '../../../xds/translate/types.ts';

export type SetFor = ResourceSet | ((proxy: ProxyInfo) => ResourceSet);

export function meshModel(version: string): MeshModel {
  return { services: new Map(), peerAuths: [], authorizations: [], statuses: [], version };
}

export class World {
  readonly cache: SnapshotCache;
  generations = 0;
  readonly #sets = new Map<string, SetFor>();
  #seq = 0;

  constructor(opts: { checkConsistency?: ConsistencyCheck } = {}) {
    this.cache = new SnapshotCache({
      generate: (model, proxy) => {
        this.generations++;
        const s = this.#sets.get(model.version);
        if (s === undefined) throw new Error(`no resources registered for model ${model.version}`);
        return typeof s === 'function' ? s(proxy) : s;
      },
      ...(opts.checkConsistency !== undefined ? { checkConsistency: opts.checkConsistency } : {}),
    });
  }

  /** Publishes a new model whose snapshot is `s`; returns the model version. */
  set(s: SetFor): string {
    const version = `m${++this.#seq}`;
    this.#sets.set(version, s);
    this.cache.setModel(meshModel(version));
    return version;
  }
}
