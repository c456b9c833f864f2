// The model's verdict on a regular expression is Envoy's: each pattern is put in a route's
// header matcher and `envoy --mode validate` decides; regexProblem (RE2 through the addon, with
// Envoy's default program-size limit of 100) must agree on every one. The corpus covers what
// JavaScript and RE2 disagree on in both directions, and sizes on each side of the limit.
import { describe, expect, it } from 'vitest';
import { re2Available } from '../../src/model/re2-native.ts';
import { regexProblem } from '../../src/model/regex.ts';
import { validateBootstrap } from '../support/envoy.ts';

const CORPUS = [
  '^/api/v[0-9]+/.*$',
  '^(canary|beta)-user-[0-9]{1,6}$',
  '^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$', // 70 instructions
  'a{96}', // 100: the largest Envoy takes
  'a{97}', // 101: the smallest it refuses
  '.{48}', // 100 in Latin-1, as Envoy counts (388 in UTF-8)
  '.{49}', // 102
  'é{50}', // 55 in Latin-1 (104 in UTF-8)
  '[\\x{100}-\\x{200}]', // beyond Latin-1: Envoy cannot parse it
  '(?<id>[0-9]+)', // named group, new in RE2 2023
  '^[0-9a-f]{64}$', // 130
  '^.{0,96}$', // 866
  '\\p{Greek}+',
  '(?i)canary', // RE2 flag group: JavaScript cannot compile it
  '(?P<id>[0-9]+)', // Python-style named group: RE2 only
  '[[:alpha:]]+', // POSIX class: RE2 only
  '(?=x)y', // lookahead: JavaScript only
  '(a)\\1', // backreference: JavaScript only
  'x{1001}', // over RE2's repetition limit
];

function bootstrap(pattern: string): string {
  const route = { match: { prefix: '/', headers: [{ name: 'x-test', string_match: { safe_regex: { regex: pattern } } }] }, direct_response: { status: 200 } };
  const hcm = {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: 't',
    route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [route] }] },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
  };
  return JSON.stringify({
    static_resources: {
      listeners: [
        { name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, filter_chains: [{ filters: [{ name: 'hcm', typed_config: hcm }] }] },
      ],
    },
  });
}

describe('regexProblem agrees with Envoy', () => {
  it('on every pattern of the corpus', { timeout: 120_000 }, async () => {
    expect(re2Available(), 'the RE2 addon (scripts/install-re2.sh) must be built').toBe(true);
    const rows: { pattern: string; envoy: boolean; weft: string | undefined }[] = [];
    // Four validations at a time: each is a short-lived Envoy process.
    for (let i = 0; i < CORPUS.length; i += 4) {
      const batch = CORPUS.slice(i, i + 4);
      const codes = await Promise.all(batch.map((p) => validateBootstrap(bootstrap(p))));
      batch.forEach((pattern, j) => rows.push({ pattern, envoy: codes[j]?.code === 0, weft: regexProblem(pattern) }));
    }
    for (const r of rows) console.log(`[regex] ${r.envoy ? 'envoy accepts' : 'envoy rejects'} ${JSON.stringify(r.pattern)}: weft ${r.weft ?? 'accepts'}`);
    expect(rows.filter((r) => r.envoy !== (r.weft === undefined)).map((r) => r.pattern)).toEqual([]);
  });
});
