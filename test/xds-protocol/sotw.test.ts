// State-of-the-World rules as a table: every rule the socket tests of test/xds-server check
// (and each fix in the git log of xds/server), here against the reducers alone. Each row is a
// world, then requests/pushes with the responses each must produce, in order.
import { describe, expect, it } from 'vitest';
import { SotwDriver, held, world } from './support.ts';

type Step = readonly [(d: SotwDriver) => string[], readonly string[]];
interface Rule {
  readonly rule: string;
  readonly world?: string;
  readonly steps: readonly Step[];
  readonly then?: (d: SotwDriver) => void;
}

const rules: Rule[] = [
  {
    rule: 'a wildcard CDS gets every cluster, a named EDS only its names',
    world: 'cds a@1 b@1 | eds a@1 b@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.request('eds', { names: ['a'] }), ['eds#2 a@1']],
    ],
  },
  {
    rule: 'the first answer of a full-state type goes out even when empty; of another type, not',
    world: '',
    steps: [
      [(d) => d.request('cds'), ['cds#1']],
      [(d) => d.request('eds', { names: ['a'] }), []],
    ],
  },
  {
    rule: 'a name that does not exist yet is remembered and sent when it appears',
    world: 'eds a@1',
    steps: [
      [(d) => d.request('eds', { names: ['a', 'z'] }), ['eds#1 a@1']],
      [(d) => d.ack('eds', '1'), []],
      [(d) => d.push(world('eds a@1 z@1')), ['eds#2 z@1']],
    ],
  },
  {
    rule: 'a push sends the full state for CDS and LDS, only what changed for EDS and RDS, nothing for unchanged types',
    world: 'cds a@1 b@1 | eds a@1 b@1 | lds l@1 m@1 | rds r@1 s@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.request('eds', { names: ['a', 'b'] }), ['eds#2 a@1 b@1']],
      [(d) => d.ack('eds', '2'), []],
      [(d) => d.request('lds'), ['lds#3 l@1 m@1']],
      [(d) => d.ack('lds', '3'), []],
      [(d) => d.request('rds', { names: ['r', 's'] }), ['rds#4 r@1 s@1']],
      [(d) => d.ack('rds', '4'), []],
      [(d) => d.push(world('cds a@1 b@1 | eds a@1 b@2 | lds l@2 m@1 | rds r@1 s@2')), ['eds#5 b@2', 'lds#6 l@2 m@1', 'rds#7 s@2']],
      [(d) => d.push(world('cds a@1 b@1 | eds a@1 b@2 | lds l@2 m@1 | rds r@1 s@2')), []],
    ],
  },
  {
    rule: 'a push goes CDS → EDS → LDS → RDS: make before break, removals last in reverse order, CLAs of changed clusters after the CDS removal too',
    world: 'cds a@1 b@1 | eds a@1 b@1 | lds l@1 m@1 | rds r@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.request('eds', { names: ['a', 'b'] }), ['eds#2 a@1 b@1']],
      [(d) => d.ack('eds', '2'), []],
      [(d) => d.request('lds'), ['lds#3 l@1 m@1']],
      [(d) => d.ack('lds', '3'), []],
      [(d) => d.request('rds', { names: ['r', 's'] }), ['rds#4 r@1']],
      [(d) => d.ack('rds', '4'), []],
      [
        (d) => d.push(world('cds a@2 c@1 | eds a@1 b@1 c@1 | lds l@2 | rds r@2 s@1')),
        ['cds#5 a@2 b@1 c@1', 'eds#6 a@1', 'lds#7 l@2 m@1', 'rds#8 r@2 s@1', 'lds#9 l@2', 'cds#10 a@2 c@1', 'eds#11 a@1'],
      ],
    ],
  },
  {
    rule: 'the CLA of a changed cluster is resent though unchanged (Envoy re-warms the cluster)',
    world: 'cds a@1 b@1 | eds a@1 b@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.request('eds', { names: ['a', 'b'] }), ['eds#2 a@1 b@1']],
      [(d) => d.ack('eds', '2'), []],
      [(d) => d.push(world('cds a@2 b@1 | eds a@1 b@1')), ['cds#3 a@2 b@1', 'eds#4 a@1']],
    ],
  },
  {
    rule: 'a request before any snapshot is answered by the first push',
    steps: [
      [(d) => d.request('cds'), []],
      [(d) => d.request('eds', { names: ['a'] }), []],
      [(d) => d.push(world('cds a@1 | eds a@1')), ['cds#1 a@1', 'eds#2 a@1']],
    ],
  },
  {
    rule: 'a name dropped from the subscription and asked for again is resent',
    world: 'eds a@1 b@1',
    steps: [
      [(d) => d.request('eds', { names: ['a', 'b'] }), ['eds#1 a@1 b@1']],
      [(d) => d.ack('eds', '1'), []],
      [(d) => d.ack('eds', '1', ['a']), []],
      [(d) => d.ack('eds', '1', ['a', 'b']), ['eds#2 b@1']],
    ],
  },
  {
    rule: 'a repeated initial request (no nonce) is answered again in full',
    world: 'cds a@1 | eds a@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.request('cds'), ['cds#2 a@1']],
      [(d) => d.request('eds', { names: ['a'] }), ['eds#3 a@1']],
      [(d) => d.request('eds', { names: ['a'] }), ['eds#4 a@1']],
    ],
  },
  {
    rule: 'a NACK keeps the last good version; the rejected content is not pushed again, the next new content is',
    world: 'cds a@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.push(world('cds a@2')), ['cds#2 a@2']],
      [(d) => d.nack('cds', '2', 'a: bad'), []],
      [(d) => d.push(world('cds a@2')), []],
      [(d) => d.push(world('cds a@3')), ['cds#3 a@3']],
    ],
    then: (d) => {
      expect(d.type('cds').lastNack).toMatchObject({ nonce: '2', message: 'a: bad', at: '2026-12-06T00:00:00.000Z' });
      expect(d.events.map((e) => `${e.kind} ${e.nonce}`)).toEqual(['ack 1', 'nack 2']);
    },
  },
  {
    rule: 'after a NACK the client is brought from its last ACKed config, not from the rejected one',
    world: 'eds a@1 b@1',
    steps: [
      [(d) => d.request('eds', { names: ['a', 'b'] }), ['eds#1 a@1 b@1']],
      [(d) => d.ack('eds', '1'), []],
      [(d) => d.push(world('eds a@2 b@1')), ['eds#2 a@2']],
      [(d) => d.nack('eds', '2', 'a: bad'), []],
      [(d) => d.push(world('eds a@2 b@2')), ['eds#3 a@2 b@2']],
    ],
  },
  {
    rule: 'an answer to a superseded nonce counts for nothing, and its names change nothing',
    world: 'eds a@1',
    steps: [
      [(d) => d.request('eds', { names: ['a'] }), ['eds#1 a@1']],
      [(d) => d.push(world('eds a@2')), ['eds#2 a@2']],
      [(d) => d.nack('eds', '1', 'late', ['a', 'b']), []],
      [(d) => d.ack('eds', '2', ['a']), []],
    ],
    then: (d) => {
      expect(d.type('eds').lastNack).toBeUndefined();
      expect([...d.type('eds').sub.names]).toEqual(['a']);
      expect(d.events.map((e) => `${e.kind} ${e.nonce}`)).toEqual(['stale 1', 'ack 2']);
    },
  },
  {
    rule: 'a request re-using an answered nonce (a subscription change) is not a second answer',
    world: 'eds a@1 b@1',
    steps: [
      [(d) => d.request('eds', { names: ['a'] }), ['eds#1 a@1']],
      [(d) => d.ack('eds', '1'), []],
      [(d) => d.nack('eds', '1', 'not an answer', ['a', 'b']), ['eds#2 b@1']],
    ],
    then: (d) => expect(d.events.map((e) => `${e.kind} ${e.nonce}`)).toEqual(['ack 1']),
  },
  {
    rule: 'a NACK of the first of two responses of one push is still a NACK',
    world: 'cds a@1 b@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1 b@1']],
      [(d) => d.ack('cds', '1'), []],
      [(d) => d.push(world('cds a@2')), ['cds#2 a@2 b@1', 'cds#3 a@2']],
      [(d) => d.nack('cds', '2', 'a: bad'), []],
      [(d) => d.ack('cds', '3'), []],
    ],
    then: (d) => {
      expect(d.type('cds').lastNack).toMatchObject({ nonce: '2', message: 'a: bad' });
      expect(d.events.map((e) => `${e.kind} ${e.nonce}`)).toEqual(['ack 1', 'nack 2', 'ack 3']);
      expect(held(d.type('cds').acked)).toBe('a@2');
    },
  },
  {
    rule: 'a NACK message is kept up to 4096 characters',
    world: 'cds a@1',
    steps: [
      [(d) => d.request('cds'), ['cds#1 a@1']],
      [(d) => d.nack('cds', '1', 'x'.repeat(5000)), []],
    ],
    then: (d) => expect(d.type('cds').lastNack?.message).toBe(`${'x'.repeat(4096)}… (904 more characters)`),
  },
  {
    rule: 'names are opaque: a subscription to "a\\0b" is not one to "a" and "b"',
    world: 'eds a@1 b@1 a\u0000b@1',
    steps: [[(d) => d.request('eds', { names: ['a\u0000b'] }), ['eds#1 a\u0000b@1']]],
  },
  {
    rule: 'LDS and CDS with no names ever named mean `*`; once named, none means none (the client drops what it no longer names)',
    world: 'lds l@1 m@1',
    steps: [
      [(d) => d.request('lds'), ['lds#1 l@1 m@1']],
      [(d) => d.ack('lds', '1', ['l']), []],
      [(d) => d.push(world('lds l@2 m@2')), ['lds#2 l@2']],
      [(d) => d.ack('lds', '2', []), []],
      [(d) => d.push(world('lds l@3 m@3')), []],
    ],
  },
];

describe('SotW protocol reducers', () => {
  it.each(rules)('$rule', ({ world: spec, steps, then }) => {
    const d = new SotwDriver(spec === undefined ? undefined : world(spec));
    steps.forEach(([act, expected], i) => expect(act(d), `step ${i + 1}`).toEqual(expected));
    then?.(d);
  });

  // With names as the server decodes them (shared frozen arrays): the memoised path answers alike.
  it.each(rules)('with shared names arrays: $rule', ({ world: spec, steps, then }) => {
    const d = new SotwDriver(spec === undefined ? undefined : world(spec));
    d.sharedNames = true;
    steps.forEach(([act, expected], i) => expect(act(d), `step ${i + 1}`).toEqual(expected));
    then?.(d);
  });
});
