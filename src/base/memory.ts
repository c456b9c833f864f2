// Giving back what startup used. Loading the modules (grpc-js, protobuf-es descriptors, zod,
// …) grows V8's young generation to its maximum and leaves old-space pages half empty, and
// V8 keeps both while the process idles: nothing allocates, so no collection ever shrinks
// them. One memory-reducing collection (V8's "last resort": full GC, compaction, the young
// generation shrunk, pooled pages released) once the control plane is up gives about 19 MiB
// back (docs/scale.md "Idle memory"), for about 60–100 ms on the main thread, once.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** V8's gc() without exposing it to the process: a fresh context created while --expose-gc is set gets it. */
function lastResortGc(): Gc {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as Gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** One memory-reducing full collection; returns how long it took, in ms. */
export function releaseStartupMemory(): number {
  const t0 = performance.now();
  lastResortGc()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return performance.now() - t0;
}
