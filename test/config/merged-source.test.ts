// `weft serve --config-dir A --config-dir B`: the examples' cluster-valid directory plus its
// standalone-only EndpointSlices, read as one state that follows edits in either.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectId } from '../../src/api/objects.ts';
import { FileSource } from '../../src/sources/file-source.ts';
import { MergedSource, mergeStates } from '../../src/sources/merged-source.ts';
import type { ConfigState } from '../../src/sources/source.ts';

let root: string;
let source: MergedSource;
let states: ConfigState[];

async function waitFor(pred: (s: ConfigState) => boolean): Promise<ConfigState> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const last = states.at(-1);
    if (last && pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(last?.problems)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'weft-merged-'));
  await cp('examples/mesh', join(root, 'mesh'), { recursive: true });
  states = [];
  source = new MergedSource(['mesh', 'mesh/standalone'].map((name) => ({ name, source: new FileSource(join(root, name), { debounceMs: 30 }) })));
  await source.start((s) => states.push(s));
});

afterEach(async () => {
  await source.stop();
  await rm(root, { recursive: true, force: true });
});

describe('MergedSource', () => {
  it('delivers both directories as one state, once, with no problems', () => {
    expect(states).toHaveLength(1);
    expect(states[0]?.problems).toEqual([]);
    const ids = states[0]?.objects.map(objectId) ?? [];
    expect(ids).toContain('TrafficSplit shop/checkout');
    expect(ids).toContain('EndpointSlice shop/checkout-v1-abcde');
    expect(ids).toHaveLength(10);
  });

  it('follows an edit in either directory', async () => {
    const split = join(root, 'mesh', 'trafficsplit.yaml');
    await writeFile(split, (await readFile(split, 'utf8')).replace('weight: 90', 'weight: 50'));
    await waitFor((s) => s.objects.some((o) => o.kind === 'TrafficSplit' && o.spec.backends[0]?.weight === 50));
    await rm(join(root, 'mesh', 'standalone', 'endpointslices.yaml'));
    const after = await waitFor((s) => !s.objects.some((o) => o.kind === 'EndpointSlice'));
    expect(after.objects).toHaveLength(6);
  });
});

describe('mergeStates', () => {
  it('takes an object defined twice from the first part and names both in the problem', async () => {
    const a = new FileSource('examples/mesh'); // TrafficSplit shop/checkout with two backends
    let state: ConfigState | undefined;
    await a.start((s) => (state = s));
    await a.stop();
    const changed: ConfigState = {
      objects: (state?.objects ?? []).map((o) => (o.kind === 'TrafficSplit' ? { ...o, spec: { ...o.spec, backends: [] } } : o)),
      problems: [{ source: 'x.yaml#0', field: 'kind', reason: 'is required' }],
    };
    const merged = mergeStates([
      { name: 'a', state: state! },
      { name: 'b', state: changed },
    ]);
    const split = merged.objects.find((o) => o.kind === 'TrafficSplit');
    expect(split?.kind === 'TrafficSplit' && split.spec.backends.length).toBe(2);
    expect(merged.problems).toContainEqual({ source: 'b/x.yaml#0', field: 'kind', reason: 'is required' });
    expect(merged.problems).toContainEqual({
      source: 'b',
      field: 'metadata.name',
      reason: 'duplicate TrafficSplit shop/checkout, already defined in a; ignored',
    });
  });
});
