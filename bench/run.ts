// `npm run bench -- <name> [args]`: prints figures; never fails on timing.
const benches: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  xds: async () => (await import('./xds.ts')).runXdsBench,
  ca: async () => (await import('./ca.ts')).runCaBench,
  peer: async () => (await import('./peer.ts')).runPeerBench,
  telemetry: async () => (await import('./telemetry.ts')).runTelemetryBench,
  egress: async () => (await import('./egress.ts')).runEgressBench,
  programmed: async () => (await import('./programmed.ts')).runProgrammedBench,
  'tls-floor': async () => (await import('./tls-floor.ts')).runTlsFloorBench,
};

const [name, ...args] = process.argv.slice(2);
// `peer` builds Go programs on first use (minutes, cold), `tls-floor` opens 3 × 1,000 connections: by name only.
const names = name ? [name] : Object.keys(benches).filter((n) => n !== 'peer' && n !== 'tls-floor');
for (const n of names) {
  const load = benches[n];
  if (!load) {
    console.error(`unknown benchmark "${n}"; choose one of: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`== bench ${n}`);
  await (
    await load()
  )(args);
}
