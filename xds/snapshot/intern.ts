// Weak interning: equal content (by key) → one shared object while anyone holds it.
// Snapshots of different proxy groups with identical CDS, say, then share one type map,
// so memoized views and encoded responses keyed on it are shared mesh-wide, and 10,000
// streams hold references rather than copies.
export interface InternPool<T extends object> {
  /** The live object interned under `key`, or `make()` interned now. */
  intern(key: string, make: () => T): T;
  readonly size: number;
}

export function createInternPool<T extends object>(): InternPool<T> {
  const pool = new Map<string, WeakRef<T>>();
  const finalizer = new FinalizationRegistry<string>((key) => {
    // Only drop the entry if it still points at a collected object (the key may have been re-interned).
    if (pool.get(key)?.deref() === undefined) pool.delete(key);
  });
  return {
    intern(key, make) {
      const live = pool.get(key)?.deref();
      if (live !== undefined) return live;
      const made = make();
      pool.set(key, new WeakRef(made));
      finalizer.register(made, key);
      return made;
    },
    get size() {
      return pool.size;
    },
  };
}
