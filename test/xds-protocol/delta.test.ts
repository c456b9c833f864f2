// Delta rules as a table: every rule the socket tests of test/xds-server check (and each fix
// in the git log of xds/server), here against the reducers alone. Each row is a world, then
// requests/pushes with the responses each must produce, in order ('-n': n in removed_resources).
import { describe, expect, it } from 'vitest';
import { DeltaDriver, held, world } from './support.ts';

type Step = readonly [(d: DeltaDriver) => string[], readonly string[]];
interface Rule {
  readonly rule: string;
  readonly world?: string;
  readonly steps: readonly Step[];
  readonly then?: (d: DeltaDriver) => void;
}

const rules: Rule[] = [
  {
    rule: 'a first CDS request naming nothing is `*`; a named EDS gets its names, and names that do not exist as removed',
    world: 'cds a@1 | eds a@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1']],
      [(d) => d.request('eds', { subscribe: ['a', 'z'] }), ['eds#2 a@1', 'eds#3 -z']],
    ],
  },
  {
    rule: 'the first wildcard answer goes out even with nothing to send (it completes the client init)',
    world: '',
    steps: [
      [(d) => d.request('cds'), ['cds#1']],
      [(d) => d.request('eds', { subscribe: ['a'] }), ['eds#2 -a']],
    ],
  },
  {
    rule: 'what initial_resource_versions says the client has is not resent',
    world: 'cds a@1 b@2',
    steps: [[(d) => d.request('cds', { initial: { a: '1', b: '1' } }), ['cds#1 b@2']]],
  },
  {
    rule: 'a resource is no longer sent once unsubscribed',
    world: 'eds a@1 b@1',
    steps: [
      [(d) => d.request('eds', { subscribe: ['a', 'b'] }), ['eds#1 a@1 b@1']],
      [(d) => d.ack('eds', '1'), []],
      [(d) => d.request('eds', { unsubscribe: ['b'] }), []],
      [(d) => d.push(world('eds a@1 b@2')), []],
      [(d) => d.push(world('eds a@2 b@3')), ['eds#2 a@2']],
    ],
  },
  {
    rule: 'deletions go in removed_resources, in a response after the additions',
    world: 'cds a@1 b@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.push(world('cds a@1 n@1')), ['cds#2 n@1', 'cds#3 -b']],
    ],
  },
  {
    rule: 'the CLA of a changed cluster is resent though unchanged',
    world: 'cds a@1 b@1 | eds a@1 b@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.request('eds', { subscribe: ['a', 'b'] }), ['eds#2 a@1 b@1']],
      [(d) => d.ack('eds', '2'), []],
      [(d) => d.push(world('cds a@2 b@1 | eds a@1 b@1')), ['cds#3 a@2', 'eds#4 a@1']],
    ],
  },
  {
    rule: 'a NACK is recorded; the rejected content is not pushed again, new content is (from what was ACKed)',
    world: 'cds a@1 b@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.push(world('cds a@2 b@1')), ['cds#2 a@2']],
      [(d) => d.nack('cds', '2', 'a: bad'), []],
      [(d) => d.push(world('cds a@2 b@1')), []],
      [(d) => d.push(world('cds a@3 b@2')), ['cds#3 a@3 b@2']],
    ],
    then: (d) => {
      expect(d.type('cds').lastNack).toMatchObject({ nonce: '2', message: 'a: bad' });
      expect(d.events.map((e) => `${e.kind} ${e.nonce}`)).toEqual(['ack 1', 'nack 2']);
    },
  },
  {
    rule: 'a NACK of the additions is a NACK though the removals followed (and were ACKed)',
    world: 'cds a@1 b@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.push(world('cds a@1 n@1')), ['cds#2 n@1', 'cds#3 -b']],
      [(d) => d.nack('cds', '2', 'n: bad'), []],
      [(d) => d.ack('cds', '3'), []],
    ],
    then: (d) => {
      expect(d.type('cds').lastNack).toMatchObject({ nonce: '2', version: d.type('cds').versionSent, message: 'n: bad' });
      expect(d.events.map((e) => `${e.kind} ${e.nonce}`)).toEqual(['ack 1', 'nack 2', 'ack 3']);
    },
  },
  {
    rule: 'a stale nonce voids the ACK/NACK, not the subscription change',
    world: 'eds a@1 b@1',
    steps: [
      [(d) => d.request('eds', { subscribe: ['a'] }), ['eds#1 a@1']],
      [(d) => d.push(world('eds a@2 b@1')), ['eds#2 a@2']],
      [(d) => d.request('eds', { nonce: '1', subscribe: ['b'], error: 'late' }), ['eds#3 b@1']],
    ],
    then: (d) => {
      expect(d.type('eds').lastNack).toBeUndefined();
      expect(d.events.map((e) => `${e.kind} ${e.nonce}`)).toEqual(['stale 1']);
    },
  },
  {
    rule: 'reconnect with initial versions: a cluster changed while away is sent, and its CLA though current',
    world: 'cds a@2 b@1 | eds a@1 b@1',
    steps: [
      [(d) => d.request('cds', { initial: { a: '1', b: '1' } }), ['cds#1 a@2']],
      [(d) => d.request('eds', { subscribe: ['a', 'b'], initial: { a: '1', b: '1' } }), ['eds#2 a@1']],
    ],
  },
  {
    rule: 'reconnect with initial versions, EDS first: the CLA follows the CDS answer',
    world: 'cds a@2 b@1 | eds a@1 b@1',
    steps: [
      [(d) => d.request('eds', { subscribe: ['a', 'b'], initial: { a: '1', b: '1' } }), []],
      [(d) => d.request('cds', { initial: { a: '1', b: '1' } }), ['cds#1 a@2', 'eds#2 a@1']],
    ],
  },
  {
    rule: 'reconnect with everything current: only the empty wildcard answer',
    world: 'cds a@2 b@1 | eds a@1 b@1',
    steps: [
      [(d) => d.request('cds', { initial: { a: '2', b: '1' } }), ['cds#1']],
      [(d) => d.request('eds', { subscribe: ['a', 'b'], initial: { a: '1', b: '1' } }), []],
    ],
  },
  {
    rule: 'subscribing to `*` again resends what only the wildcard brought',
    world: 'cds a@1 b@1',
    steps: [
      [(d) => d.request('cds', { subscribe: ['a'] }), ['cds#1 a@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.request('cds', { subscribe: ['*'] }), ['cds#2 b@1']],
      [(d) => d.ack('cds', '2'), []],
      [(d) => d.request('cds', { unsubscribe: ['*'] }), []],
      [(d) => d.request('cds', { subscribe: ['*'] }), ['cds#3 b@1']],
    ],
    then: (d) => expect(held(d.type('cds').basis)).toBe('a@1 b@1'),
  },
  {
    rule: 'a name subscribed again is answered though the client seems to hold it',
    world: 'eds a@1',
    steps: [
      [(d) => d.request('eds', { subscribe: ['a'] }), ['eds#1 a@1']],
      [(d) => d.ack('eds', '1'), []],
      [(d) => d.request('eds', { subscribe: ['a'] }), ['eds#2 a@1']],
    ],
  },
  {
    rule: 'unsubscribing a name still wanted through `*` is answered (resent, or removed if gone)',
    world: 'cds a@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.request('cds', { unsubscribe: ['a'] }), ['cds#2 a@1']],
      [(d) => d.request('cds', { unsubscribe: ['z'] }), ['cds#3 -z']],
    ],
  },
  {
    rule: 'names are opaque: the names reported missing are exactly the names asked for',
    world: 'cds a@1',
    steps: [[(d) => d.request('cds', { subscribe: ['x\u0000y', 'x'] }), ['cds#1 -x -x\u0000y']]],
  },
];

describe('Delta protocol reducers', () => {
  it.each(rules)('$rule', ({ world: spec, steps, then }) => {
    const d = new DeltaDriver(spec === undefined ? undefined : world(spec));
    steps.forEach(([act, expected], i) => expect(act(d), `step ${i + 1}`).toEqual(expected));
    then?.(d);
  });

  // The same rules with names as the server decodes them (shared frozen arrays): the memoised
  // subscription path must answer exactly as the general one.
  it.each(rules)('with shared names arrays: $rule', ({ world: spec, steps, then }) => {
    const d = new DeltaDriver(spec === undefined ? undefined : world(spec));
    d.sharedNames = true;
    steps.forEach(([act, expected], i) => expect(act(d), `step ${i + 1}`).toEqual(expected));
    then?.(d);
  });
});
