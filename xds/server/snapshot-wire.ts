// Snapshots from the primary thread to the xDS worker threads (workers.ts). Translation runs
// once, in the primary; a worker receives each group's snapshot as what changed since the
// last one it was sent for that group: per type, "the same map" or the names in order plus the
// resources whose version changed, their bytes packed into one ArrayBuffer that is transferred
// (moved, not copied) to the worker. The worker rebuilds the type maps and interns them by type
// and content version as the cache does, so its streams share views, diffs and encoded bodies
// exactly as in one thread, and byte-identical snapshots come out on both sides.
import { createInternPool } from '../snapshot/intern.ts';
import type { TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot, EncodedResource } from '../snapshot/types.ts';

export interface WireType {
  readonly typeUrl: TypeUrl;
  readonly version: string;
  /** Absent: the same map as the group's previous snapshot. */
  readonly names?: readonly string[];
  /** Resources not in the previous map at this version: [index in names, version, offset, length in `packed`]. */
  readonly changed?: ReadonlyArray<readonly [number, string, number, number]>;
}

export interface WireSnapshot {
  readonly key: string;
  /** Relative to nothing: every type's names and resources are here. */
  readonly full: boolean;
  readonly version: string;
  readonly modelVersion: string;
  readonly typeVersions: ReadonlyArray<readonly [TypeUrl, string]>;
  readonly edsNames: ReadonlyArray<readonly [string, string]>;
  readonly types: readonly WireType[];
  readonly packed: ArrayBuffer;
}

/** `snap` for a worker that holds `last` for this group (undefined: nothing). */
export function encodeSnapshot(key: string, snap: CachedSnapshot, last: CachedSnapshot | undefined): WireSnapshot {
  const types: WireType[] = [];
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const [typeUrl, map] of snap.resources) {
    const version = snap.typeVersions.get(typeUrl) ?? '';
    const before = last?.resources.get(typeUrl);
    if (before === map) {
      types.push({ typeUrl, version });
      continue;
    }
    const names: string[] = [];
    const changed: [number, string, number, number][] = [];
    for (const r of map.values()) {
      if (before?.get(r.name)?.version !== r.version) {
        changed.push([names.length, r.version, size, r.bytes.length]);
        parts.push(r.bytes);
        size += r.bytes.length;
      }
      names.push(r.name);
    }
    types.push({ typeUrl, version, names, changed });
  }
  const packed = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    packed.set(p, at);
    at += p.length;
  }
  return {
    key,
    full: last === undefined,
    version: snap.version,
    modelVersion: snap.modelVersion,
    typeVersions: [...snap.typeVersions],
    edsNames: [...snap.edsNames],
    types,
    packed: packed.buffer,
  };
}

const typeMaps = createInternPool<ReadonlyMap<string, EncodedResource>>();

class Resync extends Error {}

/** The snapshot `w` describes, given the group's previous one in this worker; undefined when the worker must ask for all of it again. */
export function decodeSnapshot(w: WireSnapshot, previous: CachedSnapshot | undefined): CachedSnapshot | undefined {
  const resources = new Map<TypeUrl, ReadonlyMap<string, EncodedResource>>();
  try {
    for (const t of w.types) {
      const before = previous?.resources.get(t.typeUrl);
      if (t.names === undefined) {
        if (before === undefined) return undefined;
        resources.set(t.typeUrl, before);
        continue;
      }
      const names = t.names;
      const changed = t.changed ?? [];
      resources.set(
        t.typeUrl,
        typeMaps.intern(`${t.typeUrl}|${t.version}`, () => {
          const map = new Map<string, EncodedResource>();
          let next = 0;
          for (let i = 0; i < names.length; i++) {
            const name = names[i]!;
            const c = changed[next];
            if (c !== undefined && c[0] === i) {
              next++;
              map.set(name, { name, typeUrl: t.typeUrl, version: c[1], bytes: new Uint8Array(w.packed, c[2], c[3]) });
              continue;
            }
            const kept = before?.get(name);
            if (kept === undefined) throw new Resync();
            map.set(name, kept);
          }
          return map;
        }),
      );
    }
  } catch (err) {
    if (err instanceof Resync) return undefined;
    throw err;
  }
  return { version: w.version, modelVersion: w.modelVersion, resources, typeVersions: new Map(w.typeVersions), edsNames: new Map(w.edsNames) };
}
