// FileSource against real files in a temp directory, with the real fs.watch: edits,
// broken edits, syntax errors, deletes and editors' rename-on-save.
import { cp, mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileSource } from '../../src/sources/file-source.ts';
import { objectId, type ConfigObject } from '../../src/api/objects.ts';
import type { ConfigState } from '../../src/sources/source.ts';
import { configReloads } from '../../src/sources/metrics.ts';

const unchangedReloads = async (): Promise<number> =>
  (await configReloads.get()).values.find((v) => v.labels.source === 'file' && v.labels.result === 'unchanged')?.value ?? 0;

let dir: string;
let source: FileSource;
let states: ConfigState[];

async function waitFor(pred: (s: ConfigState) => boolean, what: string, timeoutMs = 5000): Promise<ConfigState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = states.at(-1);
    if (last && pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last?.problems)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const weights = (s: ConfigState) => {
  const ts = s.objects.find((o): o is Extract<ConfigObject, { kind: 'TrafficSplit' }> => o.kind === 'TrafficSplit');
  return ts?.spec.backends.map((b) => b.weight);
};
const splitFile = () => join(dir, 'trafficsplit.yaml');
const setWeights = (text: string, v1: string, v2: string) => text.replace('weight: 90', `weight: ${v1}`).replace('weight: 10', `weight: ${v2}`);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-file-source-'));
  await cp('examples/mesh', dir, { recursive: true });
  await cp('examples/mesh/standalone', dir, { recursive: true }); // the loopback EndpointSlices
  states = [];
  source = new FileSource(dir, { debounceMs: 30 });
  await source.start((s) => states.push(s));
});

afterEach(async () => {
  await source.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('FileSource', () => {
  it('delivers the example mesh on start, with no problems', () => {
    expect(states).toHaveLength(1);
    const [first] = states;
    expect(first?.problems).toEqual([]);
    expect(first?.objects.map(objectId)).toContain('TrafficSplit shop/checkout');
    expect(first?.objects).toHaveLength(10);
  });

  it('follows an edit, and a later broken edit keeps the last good version', async () => {
    const original = await readFile(splitFile(), 'utf8');
    await writeFile(splitFile(), setWeights(original, '50', '50'));
    await waitFor((s) => weights(s)?.join() === '50,50', '50/50 split');
    await writeFile(splitFile(), setWeights(original, '50', '-5'));
    const broken = await waitFor((s) => s.problems.length > 0, 'a problem');
    expect(weights(broken)).toEqual([50, 50]);
    expect(broken.problems).toContainEqual({ source: 'trafficsplit.yaml#0', field: 'spec.backends[1].weight', reason: 'must be between 0 and 10000' });
  });

  it('keeps the whole file on a YAML syntax error, and recovers when it is fixed', async () => {
    const original = await readFile(splitFile(), 'utf8');
    await writeFile(splitFile(), `${original}\n  backends: [oops\n`);
    const broken = await waitFor((s) => s.problems.some((p) => p.field === '(yaml)'), 'a YAML problem');
    expect(weights(broken)).toEqual([90, 10]);
    expect(broken.problems[0]?.source).toMatch(/^trafficsplit\.yaml#0$/);
    await writeFile(splitFile(), setWeights(original, '0', '100'));
    const fixed = await waitFor((s) => s.problems.length === 0, 'recovery');
    expect(weights(fixed)).toEqual([0, 100]);
  });

  it('reports an invalid document in a new file and serves the rest of it', async () => {
    const doc = (name: string, port: number) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {ports: [{name: http, port: ${port}}]}\n`;
    await writeFile(join(dir, 'extra.yml'), `${doc('cart', 80)}---\n${doc('Bad_Name', 80)}`);
    const s = await waitFor((st) => st.objects.some((o) => objectId(o) === 'Service shop/cart'), 'the new service');
    expect(s.problems).toEqual([expect.objectContaining({ source: 'extra.yml#1', field: 'metadata.name' })]);
  });

  it('removes the objects of a deleted file', async () => {
    await rm(splitFile());
    const s = await waitFor((st) => weights(st) === undefined, 'the split to go');
    expect(s.objects).toHaveLength(9);
    expect(s.problems).toEqual([]);
  });

  it('follows an editor rename-on-save (write a temp file, rename it over the original)', async () => {
    const original = await readFile(splitFile(), 'utf8');
    const temp = join(dir, '.trafficsplit.yaml.swp');
    await writeFile(temp, setWeights(original, '30', '70'));
    await rename(temp, splitFile());
    await waitFor((s) => weights(s)?.join() === '30,70', '30/70 split');
  });

  it('follows a backup-then-write save without ever dropping the split', async () => {
    // The production holdoff (100 ms) is what bridges the moment the file is missing.
    await source.stop();
    source = new FileSource(dir);
    await source.start((s) => states.push(s));
    const edited = setWeights(await readFile(splitFile(), 'utf8'), '20', '80');
    await rename(splitFile(), `${splitFile()}~`); // vim with backupcopy=no
    await writeFile(splitFile(), edited);
    await rm(`${splitFile()}~`);
    await waitFor((s) => weights(s)?.join() === '20,80', '20/80 split');
    expect(states.every((s) => weights(s) !== undefined)).toBe(true);
  });

  it('emits nothing when a save changes no content, and nothing after stop', async () => {
    const before = await unchangedReloads();
    await utimes(splitFile(), new Date(), new Date());
    await writeFile(splitFile(), await readFile(splitFile(), 'utf8'));
    // Not "nothing for 300 ms": the reload that found nothing new has run, and emitted nothing.
    await vi.waitFor(async () => expect(await unchangedReloads()).toBeGreaterThan(before), { timeout: 5_000 });
    expect(states).toHaveLength(1);
    await source.stop();
    await writeFile(splitFile(), 'garbage: [');
    // A real wait: what could break here is fs.watch delivering an event after close().
    await new Promise((r) => setTimeout(r, 200));
    expect(states).toHaveLength(1);
  });

  it('picks the first file by name for a duplicate across files', async () => {
    const original = await readFile(splitFile(), 'utf8');
    await writeFile(join(dir, 'zz-split.yaml'), setWeights(original, '1', '1'));
    const s = await waitFor((st) => st.problems.length > 0, 'a duplicate problem');
    expect(weights(s)).toEqual([90, 10]);
    expect(s.problems).toEqual([
      { source: 'zz-split.yaml#0', field: 'metadata.name', reason: 'duplicate TrafficSplit shop/checkout, already defined in trafficsplit.yaml#0; ignored' },
    ]);
  });
});

describe('FileSource re-parses only what changed', () => {
  it('keeps the objects of untouched files (same instances) and skips a reload where no text changed', async () => {
    const first = states[0]!;
    const untouched = first.objects.find((o) => o.kind === 'Service');
    const original = await readFile(splitFile(), 'utf8');
    await writeFile(splitFile(), setWeights(original, '50', '50'));
    const edited = await waitFor((s) => weights(s)?.[0] === 50, 'the edit');
    expect(edited.objects.find((o) => objectId(o) === objectId(untouched!))).toBe(untouched);
    const unchanged = await unchangedReloads();
    const count = states.length;
    await writeFile(splitFile(), setWeights(original, '50', '50')); // same text again: an event, no change
    await vi.waitFor(async () => expect(await unchangedReloads()).toBeGreaterThan(unchanged), { timeout: 5000 });
    expect(states).toHaveLength(count);
  });
});
