// One table of Weft documents that zod (parseObject) and the CRDs (a real API server)
// must judge alike. A rejection names the field both must point at; `loose` marks a
// document both accept that a production mesh should refuse (reported to the zod owner,
// the CRD mirrors zod until zod changes).
import { MTLS_MODES, RETRY_ON } from '../../src/api/bounds.ts';
import { backendCases } from './backend-cases.ts';
import { authzCases } from './authz-cases.ts';

import {
  doc,
  split,
  match,
  retry,
  peer,
  app,
  backends,
  headers,
  ports,
  labels,
  withField,
  prefix253,
  ok,
  bad,
  type CrdCase,
  type WeftDoc,
} from './case-builders.ts';

export type { CrdCase, WeftDoc };

export const cases: readonly CrdCase[] = [
  // ---- TrafficSplit: valid -------------------------------------------------------------
  ok('TS: architecture example', match({ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', value: 'true' }] })),
  ok('TS: one backend', split({ backends: [{ service: 'checkout-v2', weight: 1 }] })),
  ok(
    'TS: a weight of 0 beside a positive one',
    split({
      backends: [
        { service: 'a', weight: 0 },
        { service: 'b', weight: 10000 },
      ],
    }),
  ),
  ok('TS: 64 backends (the maximum)', split({ backends: backends(64) })),
  ok('TS: an empty match (matches everything), path defaults', split({ matches: [{}, { path: {} }] })),
  ok('TS: a RegularExpression path need not start with /', match({ path: { type: 'RegularExpression', value: '.*\\.json$' } })),
  ok(
    'TS: header token characters, 16 headers',
    match({ headers: [{ name: "x-b3_trace.id~!#$%&'*+^`|", type: 'RegularExpression', value: '.+' }, ...headers(15)] }),
  ),
  ok('TS: 8 matches (the maximum)', split({ matches: Array.from({ length: 8 }, () => ({ path: { value: '/' } })) })),
  // ---- TrafficSplit: invalid ------------------------------------------------------------
  bad('TS: no spec', doc('TrafficSplit', undefined), 'spec'),
  bad('TS: service missing', doc('TrafficSplit', { backends: [{ service: 'a', weight: 1 }] }), 'spec.service'),
  bad('TS: service not a DNS-1035 label', split({ service: 'Checkout' }), 'spec.service'),
  bad('TS: service starting with a digit', split({ service: '1checkout' }), 'spec.service'),
  bad('TS: service longer than 63', split({ service: `a${'b'.repeat(63)}` }), 'spec.service'),
  bad('TS: no backends', split({ backends: [] }), 'spec.backends'),
  bad('TS: 65 backends', split({ backends: backends(65) }), 'spec.backends'),
  bad('TS: backend service invalid', split({ backends: [{ service: 'v1_checkout', weight: 1 }] }), 'spec.backends[0].service'),
  bad('TS: backend weight missing', split({ backends: [{ service: 'a' }] }), 'spec.backends[0].weight'),
  bad('TS: weight above 10000', split({ backends: [{ service: 'a', weight: 10001 }] }), 'spec.backends[0].weight'),
  bad('TS: negative weight', split({ backends: [{ service: 'a', weight: -1 }] }), 'spec.backends[0].weight'),
  bad('TS: fractional weight', split({ backends: [{ service: 'a', weight: 1.5 }] }), 'spec.backends[0].weight'),
  bad('TS: weight as a string', split({ backends: [{ service: 'a', weight: '90' }] }), 'spec.backends[0].weight'),
  bad(
    'TS: every weight 0',
    split({
      backends: [
        { service: 'a', weight: 0 },
        { service: 'b', weight: 0 },
      ],
    }),
    'spec.backends',
  ),
  bad(
    'TS: duplicate backend',
    split({
      backends: [
        { service: 'a', weight: 1 },
        { service: 'a', weight: 2 },
      ],
    }),
    'spec.backends[1]',
  ),
  bad('TS: 9 matches', split({ matches: Array.from({ length: 9 }, () => ({})) }), 'spec.matches'),
  bad('TS: PathPrefix value without leading /', match({ path: { type: 'PathPrefix', value: 'api' } }), 'spec.matches[0].path.value'),
  bad('TS: Exact path value without leading /', match({ path: { type: 'Exact', value: 'api' } }), 'spec.matches[0].path.value'),
  bad('TS: unknown path type', match({ path: { type: 'Prefix', value: '/api' } }), 'spec.matches[0].path.type'),
  bad('TS: empty path value', match({ path: { value: '' } }), 'spec.matches[0].path.value'),
  bad('TS: path value longer than 1024', match({ path: { value: `/${'a'.repeat(1024)}` } }), 'spec.matches[0].path.value'),
  bad('TS: header name with a space', match({ headers: [{ name: 'x canary', value: 'true' }] }), 'spec.matches[0].headers[0].name'),
  bad('TS: header name longer than 256', match({ headers: [{ name: 'x'.repeat(257), value: 'v' }] }), 'spec.matches[0].headers[0].name'),
  bad('TS: header value empty', match({ headers: [{ name: 'x-canary', value: '' }] }), 'spec.matches[0].headers[0].value'),
  bad('TS: header value missing', match({ headers: [{ name: 'x-canary' }] }), 'spec.matches[0].headers[0].value'),
  bad('TS: unknown header match type', match({ headers: [{ name: 'x-canary', type: 'Prefix', value: 'a' }] }), 'spec.matches[0].headers[0].type'),
  bad(
    'TS: header repeated in another case',
    match({
      headers: [
        { name: 'x-canary', value: 'a' },
        { name: 'X-Canary', value: 'b' },
      ],
    }),
    'spec.matches[0].headers',
    {
      zodField: 'spec.matches[0].headers[1].name',
    },
  ),
  bad('TS: 17 headers', match({ headers: headers(17) }), 'spec.matches[0].headers'),
  bad('TS: name not a DNS-1123 subdomain', { ...split(), metadata: { name: 'Checkout_Canary' } }, 'metadata.name'),

  // ---- RetryPolicy: valid ---------------------------------------------------------------
  ok('RP: only a target (defaults fill the rest)', retry()),
  ok(
    'RP: architecture example',
    retry({
      attempts: 3,
      perTryTimeout: '5s',
      timeout: '15s',
      retryOn: ['5xx', 'connect-failure', 'reset'],
      backoff: { baseInterval: '25ms', maxInterval: '250ms' },
      budget: { percent: 20, minRetryConcurrency: 3 },
      retryNonIdempotent: false,
      exemptPaths: ['/healthz'],
      outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
    }),
  ),
  ok('RP: explicit core group, 0 attempts', retry({ targetRef: { group: '', kind: 'Service', name: 'inventory' }, attempts: 0 })),
  ok('RP: duration bounds exactly (1ms, 1h)', retry({ perTryTimeout: '1ms', timeout: '1h' })),
  ok('RP: perTryTimeout equal to timeout in other units', retry({ perTryTimeout: '60s', timeout: '1m' })),
  ok(
    'RP: compound and fractional durations, us and ns',
    retry({ perTryTimeout: '1000000us', timeout: '1m30.5s', backoff: { baseInterval: '1000000ns', maxInterval: '0.001s' } }),
  ),
  ok('RP: maxInterval equal to baseInterval', retry({ backoff: { baseInterval: '1s', maxInterval: '1000ms' } })),
  ok('RP: backoff without maxInterval, 1m base', retry({ backoff: { baseInterval: '1m' } })),
  ok('RP: retriable-status-codes with codes', retry({ retryOn: ['retriable-status-codes', 'reset'], retriableStatusCodes: [100, 429, 503, 599] })),
  ok('RP: every retryOn condition', retry({ retryOn: [...RETRY_ON], retriableStatusCodes: [503] })),
  ok('RP: fractional budget, empty objects take defaults', retry({ budget: { percent: 12.5 }, outlierDetection: {} })),
  ok(
    'RP: outlier bounds exactly',
    retry({ outlierDetection: { consecutive5xxErrors: 1000, interval: '100ms', baseEjectionTime: '1h', maxEjectionPercent: 0 } }),
  ),
  // ---- RetryPolicy: invalid -------------------------------------------------------------
  bad('RP: no targetRef', retry({ targetRef: undefined }), 'spec.targetRef'),
  bad('RP: target kind Pod', retry({ targetRef: { kind: 'Pod', name: 'inventory' } }), 'spec.targetRef.kind'),
  bad('RP: target group apps', retry({ targetRef: { group: 'apps', kind: 'Service', name: 'inventory' } }), 'spec.targetRef.group'),
  bad('RP: target name invalid', retry({ targetRef: { kind: 'Service', name: 'Inventory' } }), 'spec.targetRef.name'),
  bad('RP: 11 attempts', retry({ attempts: 11 }), 'spec.attempts'),
  bad('RP: negative attempts', retry({ attempts: -1 }), 'spec.attempts'),
  bad('RP: timeout without a unit', retry({ timeout: '15' }), 'spec.timeout'),
  bad('RP: timeout with µs', retry({ timeout: '10µs' }), 'spec.timeout'),
  bad('RP: timeout longer than 32 characters', retry({ timeout: `${'0'.repeat(31)}1s` }), 'spec.timeout'),
  bad('RP: timeout above 1h', retry({ timeout: '1h0m0.001s' }), 'spec.timeout'),
  bad('RP: timeout that overflows a Go duration', retry({ timeout: '9999999999999h' }), 'spec.timeout'),
  bad('RP: perTryTimeout below 1ms', retry({ perTryTimeout: '999us' }), 'spec.perTryTimeout'),
  bad('RP: perTryTimeout above timeout', retry({ perTryTimeout: '20s', timeout: '15s' }), 'spec.perTryTimeout'),
  bad('RP: unknown retryOn condition', retry({ retryOn: ['timeout'] }), 'spec.retryOn[0]'),
  bad('RP: empty retryOn', retry({ retryOn: [] }), 'spec.retryOn'),
  bad('RP: repeated retryOn condition', retry({ retryOn: ['5xx', '5xx'] }), 'spec.retryOn[1]'),
  bad('RP: retriable-status-codes without codes', retry({ retryOn: ['retriable-status-codes'] }), 'spec.retriableStatusCodes'),
  bad('RP: codes without retriable-status-codes', retry({ retriableStatusCodes: [503] }), 'spec.retriableStatusCodes'),
  bad('RP: status code 600', retry({ retryOn: ['retriable-status-codes'], retriableStatusCodes: [600] }), 'spec.retriableStatusCodes[0]'),
  bad('RP: repeated status code', retry({ retryOn: ['retriable-status-codes'], retriableStatusCodes: [503, 503] }), 'spec.retriableStatusCodes[1]'),
  bad(
    'RP: 17 status codes',
    retry({ retryOn: ['retriable-status-codes'], retriableStatusCodes: Array.from({ length: 17 }, (_, i) => 500 + i) }),
    'spec.retriableStatusCodes',
  ),
  bad('RP: maxInterval below baseInterval', retry({ backoff: { baseInterval: '250ms', maxInterval: '25ms' } }), 'spec.backoff.maxInterval'),
  bad('RP: backoff without baseInterval', retry({ backoff: { maxInterval: '1s' } }), 'spec.backoff.baseInterval'),
  bad('RP: baseInterval above 1m', retry({ backoff: { baseInterval: '61s' } }), 'spec.backoff.baseInterval'),
  bad('RP: budget percent above 100', retry({ budget: { percent: 100.5 } }), 'spec.budget.percent'),
  bad('RP: minRetryConcurrency 0', retry({ budget: { minRetryConcurrency: 0 } }), 'spec.budget.minRetryConcurrency'),
  bad('RP: retryNonIdempotent not a boolean', retry({ retryNonIdempotent: 'yes' }), 'spec.retryNonIdempotent'),
  bad('RP: exempt path without leading /', retry({ exemptPaths: ['healthz'] }), 'spec.exemptPaths[0]'),
  bad('RP: repeated exempt path', retry({ exemptPaths: ['/a', '/a'] }), 'spec.exemptPaths[1]'),
  bad('RP: 33 exempt paths', retry({ exemptPaths: Array.from({ length: 33 }, (_, i) => `/p${i}`) }), 'spec.exemptPaths'),
  bad('RP: outlier interval below 100ms', retry({ outlierDetection: { interval: '99ms' } }), 'spec.outlierDetection.interval'),
  bad('RP: baseEjectionTime above 1h', retry({ outlierDetection: { baseEjectionTime: '61m' } }), 'spec.outlierDetection.baseEjectionTime'),
  bad('RP: consecutive5xxErrors 0', retry({ outlierDetection: { consecutive5xxErrors: 0 } }), 'spec.outlierDetection.consecutive5xxErrors'),
  bad('RP: maxEjectionPercent 101', retry({ outlierDetection: { maxEjectionPercent: 101 } }), 'spec.outlierDetection.maxEjectionPercent'),

  // ---- PeerAuth: valid ------------------------------------------------------------------
  ok('PA: no spec (namespace-wide, mode UNSET)', peer()),
  ok('PA: namespace-wide STRICT', peer({ mtls: { mode: 'STRICT' } })),
  ok('PA: architecture example', peer({ selector: app, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })),
  ok(
    'PA: every mode; port keys 1 and 65535; mode defaults',
    peer({ selector: app, portLevelMtls: Object.fromEntries([...MTLS_MODES.map((m, i) => [String(i + 1), { mode: m }]), ['65535', {}]]) }),
  ),
  ok('PA: 64 port-level entries', peer({ selector: app, portLevelMtls: ports(64) })),
  ok('PA: empty portLevelMtls with a selector', peer({ selector: app, portLevelMtls: {} })),
  ok(
    'PA: prefixed label keys, an empty value, 63-character names and values',
    labels({ 'app.kubernetes.io/name': 'web_1.x-y', tier: '', ['k'.repeat(63)]: 'v'.repeat(63) }),
  ),
  ok('PA: label key prefix of 253 characters', labels({ [`${prefix253}/${'n'.repeat(63)}`]: 'x' })),
  // ---- PeerAuth: invalid ----------------------------------------------------------------
  bad('PA: unknown mode', peer({ mtls: { mode: 'strict' } }), 'spec.mtls.mode'),
  bad('PA: portLevelMtls without a selector', peer({ portLevelMtls: { '8080': { mode: 'STRICT' } } }), 'spec.portLevelMtls'),
  bad('PA: port key 0', peer({ selector: app, portLevelMtls: { '0': { mode: 'STRICT' } } }), 'spec.portLevelMtls', { zodField: 'spec.portLevelMtls["0"]' }),
  bad('PA: port key 65536', peer({ selector: app, portLevelMtls: { '65536': { mode: 'STRICT' } } }), 'spec.portLevelMtls', {
    zodField: 'spec.portLevelMtls["65536"]',
  }),
  bad('PA: port key not a number', peer({ selector: app, portLevelMtls: { http: { mode: 'STRICT' } } }), 'spec.portLevelMtls', {
    zodField: 'spec.portLevelMtls.http',
  }),
  bad('PA: unknown port-level mode', peer({ selector: app, portLevelMtls: { '8080': { mode: 'OFF' } } }), 'spec.portLevelMtls', {
    zodField: 'spec.portLevelMtls["8080"].mode',
    apiField: 'spec.portLevelMtls.8080.mode',
  }),
  bad('PA: 65 port-level entries', peer({ selector: app, portLevelMtls: ports(65) }), 'spec.portLevelMtls'),
  bad('PA: selector without matchLabels', peer({ selector: {} }), 'spec.selector.matchLabels'),
  bad('PA: empty matchLabels', peer({ selector: { matchLabels: {} } }), 'spec.selector.matchLabels'),
  bad(
    'PA: 65 matchLabels',
    peer({ selector: { matchLabels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) } }),
    'spec.selector.matchLabels',
  ),
  bad('PA: label value not a string', peer({ selector: { matchLabels: { app: 1 } } }), 'spec.selector.matchLabels.app', {
    zodField: 'spec.selector.matchLabels.app',
  }),
  bad(
    'PA: port key with a leading zero ("080" and "80" are one port)',
    peer({ selector: app, portLevelMtls: { '080': { mode: 'STRICT' } } }),
    'spec.portLevelMtls',
    { zodField: 'spec.portLevelMtls["080"]' },
  ),
  bad('PA: label key not label syntax', labels({ 'not a label!': 'payments' }), 'spec.selector.matchLabels', {
    zodField: 'spec.selector.matchLabels["not a label!"]',
  }),
  bad('PA: label key name of 64 characters', labels({ [`example.com/${'n'.repeat(64)}`]: 'x' }), 'spec.selector.matchLabels'),
  bad('PA: label key prefix of 254 characters', labels({ [`${prefix253}d/app`]: 'x' }), 'spec.selector.matchLabels'),
  bad('PA: label key prefix not a DNS subdomain', labels({ 'Example.com/app': 'x' }), 'spec.selector.matchLabels'),
  bad('PA: label key with two slashes', labels({ 'a/b/c': 'x' }), 'spec.selector.matchLabels'),
  bad('PA: label key with an empty name', labels({ 'example.com/': 'x' }), 'spec.selector.matchLabels'),
  bad('PA: label value not label syntax', labels({ app: 'no way?' }), 'spec.selector.matchLabels.app'),
  bad('PA: label value of 64 characters', labels({ app: 'v'.repeat(64) }), 'spec.selector.matchLabels.app'),
  bad('PA: label value ending in "-"', labels({ app: 'web-' }), 'spec.selector.matchLabels.app'),

  // ---- Read as the API server reads: unknown fields, nulls, nanoseconds ------------------
  // Strict field validation rejects unknown fields; metadata is free-form.
  bad('TS: unknown field (typo spec.backend)', split({ backend: [{ service: 'x', weight: 1 }] }), 'spec.backend'),
  bad('TS: unknown field in a backend', split({ backends: [{ service: 'a', weight: 1, wieght: 2 }] }), 'spec.backends[0].wieght'),
  bad('TS: unknown field in a header match', match({ headers: [{ name: 'x-a', value: 'b', ignoreCase: true }] }), 'spec.matches[0].headers[0].ignoreCase'),
  bad('TS: misspelt spec at the top level', withField(peer(), 'sepc', { mtls: { mode: 'STRICT' } }), 'sepc'),
  bad('RP: unknown field (typo retryon)', retry({ retryon: ['5xx'] }), 'spec.retryon'),
  bad('RP: unknown field in targetRef', retry({ targetRef: { kind: 'Service', name: 'inventory', namespace: 'other' } }), 'spec.targetRef.namespace'),
  bad('RP: unknown field in outlierDetection', retry({ outlierDetection: { consecutiveErrors: 3 } }), 'spec.outlierDetection.consecutiveErrors'),
  bad('RP: an unknown field set to null is still unknown', retry({ timout: null }), 'spec.timout'),
  bad('PA: matchExpressions (not supported)', peer({ selector: { ...app, matchExpressions: [] } }), 'spec.selector.matchExpressions'),
  bad('PA: unknown field in a port-level entry', peer({ selector: app, portLevelMtls: { '8080': { mode: 'STRICT', tls: true } } }), 'spec.portLevelMtls', {
    zodField: 'spec.portLevelMtls["8080"].tls',
    apiField: 'spec.portLevelMtls.8080.tls',
  }),
  ok('TS: labels and annotations in metadata', {
    ...split(),
    metadata: { name: 'parity', labels: { team: 'shop' }, annotations: { 'example.com/note': 'any text at all' } },
  }),
  // A null in a declared field is dropped (then defaulted); a null where a value is required is missing.
  ok(
    'RP: null optional fields are absent, defaulted ones take their default',
    retry({ timeout: null, backoff: null, attempts: null, retryOn: null, exemptPaths: null }),
  ),
  ok('RP: null inside nested objects', retry({ backoff: { baseInterval: '1s', maxInterval: null }, outlierDetection: { interval: null } })),
  ok('TS: null path value takes its default', match({ path: { type: null, value: null }, headers: null })),
  ok('PA: null spec takes its default', withField(peer(), 'spec', null)),
  ok('PA: null map values are dropped', peer({ selector: { matchLabels: { app: 'payments', tier: null } }, mtls: null, portLevelMtls: { '8080': null } })),
  bad('TS: null spec', withField(doc('TrafficSplit', undefined), 'spec', null), 'spec'),
  bad('TS: null weight', split({ backends: [{ service: 'a', weight: null }] }), 'spec.backends[0].weight'),
  bad('TS: null backend in the list', split({ backends: [null] }), 'spec.backends[0]'),
  bad('RP: null targetRef', retry({ targetRef: null }), 'spec.targetRef'),
  bad('RP: null in a list', retry({ retryOn: ['5xx', null] }), 'spec.retryOn[1]'),
  bad('PA: only null labels', peer({ selector: { matchLabels: { app: null } } }), 'spec.selector.matchLabels'),
  // Durations are whole nanoseconds (Go's time.ParseDuration, which CEL's duration() uses).
  ok('RP: sub-nanosecond excess over 1h truncates to 1h', retry({ timeout: '3600.0000000001s' })),
  ok('RP: 59m60.0000000009s is 1h', retry({ timeout: '59m60.0000000009s' })),
  ok('RP: fraction digits past uint64 precision are ignored (0.999…9ms is 1ms)', retry({ timeout: '0.99999999999999999999999ms' })),
  ok('RP: perTryTimeout equal to timeout to the nanosecond', retry({ perTryTimeout: '1.0000000004ms', timeout: '1ms' })),
  bad('RP: 0.9999999999ms is below 1ms', retry({ timeout: '0.9999999999ms' }), 'spec.timeout'),
  bad('RP: perTryTimeout above timeout within the same millisecond', retry({ perTryTimeout: '1.4ms', timeout: '1.2ms' }), 'spec.perTryTimeout'),
  bad(
    'RP: maxInterval below baseInterval within the same millisecond',
    retry({ backoff: { baseInterval: '1.4ms', maxInterval: '1.2ms' } }),
    'spec.backoff.maxInterval',
  ),
  ...backendCases,
  ...authzCases,
];
