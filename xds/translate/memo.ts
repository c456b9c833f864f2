// Per-model memoization. The model is immutable once built, so anything computed from it
// (plus an explicit string key, e.g. a caller namespace) can be computed once and handed
// to every proxy as the SAME message objects. That identity is what lets the snapshot
// cache encode each message once (it keys its encoding cache on the message object):
// a thousand sidecars in one namespace share one set of route messages and one
// serialization. A WeakMap keyed on the model lets old models and their output be
// collected as soon as nobody holds them. No hidden inputs: the value depends only on
// (model, key), exactly as if recomputed.
import type { MeshModel } from '../../src/model/types.ts';

export function memoByModel<T>(compute: (model: MeshModel) => T): (model: MeshModel) => T {
  const cache = new WeakMap<MeshModel, T>();
  return (model) => {
    if (cache.has(model)) return cache.get(model) as T;
    const value = compute(model);
    cache.set(model, value);
    return value;
  };
}

export function memoByModelAndKey<T>(compute: (model: MeshModel, key: string) => T): (model: MeshModel, key: string) => T {
  return memoByModelAndSpec((key: string) => key, compute);
}

/**
 * memoByModelAndKey for a structured argument: `keyOf` must encode everything compute
 * reads of `arg` (a canonical string), so equal keys may share one value.
 */
export function memoByModelAndSpec<A, T>(keyOf: (arg: A) => string, compute: (model: MeshModel, arg: A) => T): (model: MeshModel, arg: A) => T {
  const cache = new WeakMap<MeshModel, Map<string, T>>();
  return (model, arg) => {
    let perModel = cache.get(model);
    if (perModel === undefined) {
      perModel = new Map();
      cache.set(model, perModel);
    }
    const key = keyOf(arg);
    if (perModel.has(key)) return perModel.get(key) as T;
    const value = compute(model, arg);
    perModel.set(key, value);
    return value;
  };
}
