// The contract every config source (the YAML directory now, Kubernetes informers later)
// fulfils. Downstream code sees only ConfigStates and never knows which source ran.
import type { ConfigObject } from '../api/objects.ts';
import type { WorkloadFacts } from '../model/types.ts';

/** One rejected (or overridden) piece of configuration, for logs, status and the CLI. */
export interface ConfigProblem {
  /** Where it came from: `mesh.yaml#2` (file, 0-based document index) or `TrafficSplit shop/canary`. */
  readonly source: string;
  /** Field path inside the document (`spec.backends[0].weight`), or `(yaml)`/`(document)`/`(file)`. */
  readonly field: string;
  readonly reason: string;
}

/** The complete current configuration: a level, not an event. Objects sorted by kind/namespace/name. */
export interface ConfigState {
  readonly objects: readonly ConfigObject[];
  readonly problems: readonly ConfigProblem[];
  /**
   * Workloads (Pods) behind endpoints, when the source knows them (Kubernetes): whether
   * each runs a sidecar decides where clients originate mTLS. The file source has none.
   */
  readonly workloads?: readonly WorkloadFacts[];
}

export interface ConfigSource {
  /**
   * Starts watching. Resolves once the first complete state has been delivered; after
   * that, onChange is called again only when the state effectively changes.
   */
  start(onChange: (state: ConfigState) => void): Promise<void>;
  /** Stops watching; no onChange call happens after this resolves. */
  stop(): Promise<void>;
}
