// Prints an image definition as bash assignments for scripts/images/build.sh:
//   eval "$(node scripts/images/plan.ts weft)"
// sets NAME REF SUITE PACKAGES ARTIFACTS FILES EXCLUDES RUN_CMDS OCI_ARGS PRUNE_NODE_MODULES DEFINITION.
// `plan.ts --names` prints the image names, one a line.
import { imageNames, loadImage, PRUNE_NODE_MODULES } from './definition.ts';

/** A bash word that stands for exactly `s`. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function arr(name: string, items: string[]): string {
  return `${name}=(${items.map(shq).join(' ')})`;
}

export function renderPlan(name: string): string {
  const img = loadImage(name);
  const d = img.def;
  const oci = ['--entrypoint', JSON.stringify(d.entrypoint), '--user', d.user, '--workdir', d.workdir];
  if (d.cmd.length > 0) oci.push('--cmd', JSON.stringify(d.cmd));
  for (const [k, v] of Object.entries(d.env).sort()) oci.push('--env', `${k}=${v}`);
  for (const [k, v] of Object.entries(img.labels).sort()) oci.push('--label', `${k}=${v}`);
  return [
    `NAME=${shq(img.name)}`,
    `REF=${shq(img.ref)}`,
    `SUITE=${shq(d.suite)}`,
    arr(
      'PACKAGES',
      Object.entries(d.packages)
        .sort()
        .map(([p, v]) => `${p}=${v}`),
    ),
    arr(
      'ARTIFACTS',
      Object.entries(d.artifacts)
        .sort()
        .map(([a, to]) => `${a}=${to}`),
    ),
    arr(
      'FILES',
      Object.entries(d.files)
        .sort()
        .map(([from, to]) => `${from}=${to}`),
    ),
    arr('EXCLUDES', d.exclude),
    arr('RUN_CMDS', img.runCommands),
    arr('OCI_ARGS', oci),
    `PRUNE_NODE_MODULES=${shq(PRUNE_NODE_MODULES)}`,
    // Canonical form of everything above, hashed into the build's cache key.
    `DEFINITION=${shq(JSON.stringify({ ref: img.ref, def: d, labels: img.labels, run: img.runCommands }))}`,
  ].join('\n');
}

const [arg] = process.argv.slice(2);
if (!import.meta.main) {
  // imported by a test: render only
} else if (arg === '--names') process.stdout.write(`${imageNames().join('\n')}\n`);
else if (arg) process.stdout.write(`${renderPlan(arg)}\n`);
else {
  process.stderr.write('usage: plan.ts NAME | --names\n');
  process.exitCode = 2;
}
