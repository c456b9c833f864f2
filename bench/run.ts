// `npm run bench -- <name> [args]`: prints figures; never fails on timing.
const benches: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  xds: async () => (await import('./xds.ts')).runXdsBench,
  ca: async () => (await import('./ca.ts')).runCaBench,
  telemetry: async () => (await import('./telemetry.ts')).runTelemetryBench,
};

const [name, ...args] = process.argv.slice(2);
const names = name ? [name] : Object.keys(benches);
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
