// Formats the shop client's JSON lines (examples/shop/app/load.ts: one per second, then a
// summary) as the split it observed: per second and running, per version, plus errors.
// Used by scripts/demo-cluster.sh: `kubectl exec ... load ... | node scripts/demo-split.ts`.
import { createInterface } from 'node:readline';

interface Line {
  readonly summary?: boolean;
  readonly requests: number;
  readonly ok: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly seconds?: number;
}

const total = { requests: 0, ok: {} as Record<string, number>, errors: 0 };
const pct = (n: number, of: number): string => (of === 0 ? '   -  ' : `${((100 * n) / of).toFixed(1).padStart(5)} %`);
const versions = (ok: Readonly<Record<string, number>>, of: number): string =>
  Object.keys(ok)
    .sort()
    .map((v) => `${v} ${pct(ok[v] ?? 0, of)}`)
    .join('  ');
const sum = (m: Readonly<Record<string, number>>): number => Object.values(m).reduce((a, b) => a + b, 0);

let second = 0;
for await (const text of createInterface({ input: process.stdin })) {
  let line: Line;
  try {
    line = JSON.parse(text) as Line;
  } catch {
    continue;
  }
  if (line.summary) {
    const errs = sum(line.errors);
    console.log(
      `total: ${line.requests} requests in ${line.seconds ?? '?'} s: ${versions(line.ok, line.requests)}  errors ${errs}${errs ? ` ${JSON.stringify(line.errors)}` : ''}`,
    );
    continue;
  }
  second++;
  total.requests += line.requests;
  for (const [v, n] of Object.entries(line.ok)) total.ok[v] = (total.ok[v] ?? 0) + n;
  total.errors += sum(line.errors);
  console.log(
    `${String(second).padStart(3)} s  ${String(line.requests).padStart(4)} req  ${versions(line.ok, line.requests)}  errors ${sum(line.errors)}   | so far ${versions(total.ok, total.requests)}  errors ${total.errors}`,
  );
}
