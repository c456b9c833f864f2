// The CRD schemas read every bound, pattern, vocabulary and default from bounds.ts: a
// change on one side without the other fails here, before any API server is involved.
// (e2e/crds/crd-parity.test.ts then proves the behaviour on a real API server.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as b from '../../src/api/bounds.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  [k: string]: unknown;
}

function schemaOf(file: string): Schema {
  const crd = parse(readFileSync(join(repoRoot, 'crds', file), 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  const v = crd.spec.versions[0];
  if (!v) throw new Error(`${file}: no version`);
  return v.schema.openAPIV3Schema;
}

/** `spec.backends[].weight`, `spec.portLevelMtls{}.mode`: [] steps into items, {} into additionalProperties. */
function at(root: Schema, path: string): Schema {
  let s: Schema | undefined = root;
  for (const part of path.split('.')) {
    const name = part.replace(/(\[\]|\{\})+$/, '');
    s = s?.properties?.[name];
    for (const step of part.slice(name.length).match(/\[\]|\{\}/g) ?? []) s = step === '[]' ? s?.items : s?.additionalProperties;
    if (!s) throw new Error(`no schema at ${path} (${part})`);
  }
  return s;
}

const rules = (s: Schema) => (s['x-kubernetes-validations'] ?? []).map((v) => v.rule).join('\n');
const ms = (d: string) => `duration('${d}')`;

describe('TrafficSplit CRD mirrors bounds.ts', () => {
  const s = schemaOf('trafficsplits.yaml');
  const B = b.TrafficSplitBounds;
  it('names, counts and weights', () => {
    for (const p of ['spec.service', 'spec.backends[].service'])
      expect(at(s, p)).toMatchObject({ maxLength: b.DNS_LABEL_MAX, pattern: b.DNS1035_LABEL.source });
    expect(at(s, 'spec.backends')).toMatchObject({ minItems: B.backendsMin, maxItems: B.backendsMax });
    expect(at(s, 'spec.backends[].weight')).toMatchObject({ type: 'integer', minimum: B.weightMin, maximum: B.weightMax });
    expect(at(s, 'spec.matches')).toMatchObject({ maxItems: B.matchesMax });
    expect(at(s, 'spec.matches[].headers')).toMatchObject({ maxItems: B.headersPerMatchMax });
  });
  it('match values, header names and vocabularies', () => {
    for (const p of ['spec.matches[].path.value', 'spec.matches[].headers[].value'])
      expect(at(s, p)).toMatchObject({ minLength: 1, maxLength: B.valueMaxLength });
    expect(at(s, 'spec.matches[].headers[].name')).toMatchObject({ maxLength: b.HTTP_HEADER_NAME_MAX, pattern: b.HTTP_HEADER_NAME.source });
    expect(at(s, 'spec.matches[].path.type').enum).toEqual([...b.PATH_MATCH_TYPES]);
    expect(at(s, 'spec.matches[].headers[].type').enum).toEqual([...b.HEADER_MATCH_TYPES]);
  });
});

describe('RetryPolicy CRD mirrors bounds.ts', () => {
  const s = schemaOf('retrypolicies.yaml');
  const B = b.RetryPolicyBounds;
  const durations: [string, string, string][] = [
    ['spec.perTryTimeout', B.timeoutMin, B.timeoutMax],
    ['spec.timeout', B.timeoutMin, B.timeoutMax],
    ['spec.backoff.baseInterval', B.backoffMin, B.backoffMax],
    ['spec.backoff.maxInterval', B.backoffMin, B.backoffMax],
    ['spec.outlierDetection.interval', B.outlierIntervalMin, B.outlierIntervalMax],
    ['spec.outlierDetection.baseEjectionTime', B.outlierIntervalMin, B.outlierIntervalMax],
  ];
  it.each(durations)('%s is a duration in [%s, %s]', (path, min, max) => {
    const d = at(s, path);
    expect(d).toMatchObject({ type: 'string', maxLength: b.DURATION_MAX_LENGTH, pattern: b.DURATION_PATTERN.source });
    expect(rules(d)).toBe(`duration(self) >= ${ms(min)} && duration(self) <= ${ms(max)}`);
  });
  it('integers, numbers and their defaults', () => {
    expect(at(s, 'spec.attempts')).toMatchObject({ minimum: B.attemptsMin, maximum: B.attemptsMax, default: B.attemptsDefault });
    expect(at(s, 'spec.retriableStatusCodes')).toMatchObject({ maxItems: B.statusCodesMax });
    expect(at(s, 'spec.retriableStatusCodes[]')).toMatchObject({ minimum: B.statusCodeMin, maximum: B.statusCodeMax });
    expect(at(s, 'spec.budget.percent')).toMatchObject({
      type: 'number',
      minimum: B.budgetPercentMin,
      maximum: B.budgetPercentMax,
      default: B.budgetPercentDefault,
    });
    expect(at(s, 'spec.budget.minRetryConcurrency')).toMatchObject({
      minimum: B.minRetryConcurrencyMin,
      maximum: B.minRetryConcurrencyMax,
      default: B.minRetryConcurrencyDefault,
    });
    expect(at(s, 'spec.outlierDetection.consecutive5xxErrors')).toMatchObject({
      minimum: B.consecutive5xxMin,
      maximum: B.consecutive5xxMax,
      default: B.consecutive5xxDefault,
    });
    expect(at(s, 'spec.outlierDetection.maxEjectionPercent')).toMatchObject({
      minimum: B.maxEjectionPercentMin,
      maximum: B.maxEjectionPercentMax,
      default: B.maxEjectionPercentDefault,
    });
    expect(at(s, 'spec.outlierDetection.interval').default).toBe(B.outlierIntervalDefault);
    expect(at(s, 'spec.outlierDetection.baseEjectionTime').default).toBe(B.baseEjectionTimeDefault);
  });
  it('retryOn, exempt paths and the target', () => {
    expect(at(s, 'spec.retryOn')).toMatchObject({ minItems: 1, maxItems: b.RETRY_ON.length, 'x-kubernetes-list-type': 'set', default: [...B.retryOnDefault] });
    expect(at(s, 'spec.retryOn[]').enum).toEqual([...b.RETRY_ON]);
    expect(at(s, 'spec.exemptPaths')).toMatchObject({ maxItems: B.exemptPathsMax, 'x-kubernetes-list-type': 'set' });
    expect(at(s, 'spec.exemptPaths[]')).toMatchObject({ maxLength: B.pathMaxLength, pattern: '^/' });
    expect(at(s, 'spec.targetRef.name')).toMatchObject({ maxLength: b.DNS_LABEL_MAX, pattern: b.DNS1035_LABEL.source });
  });
});

describe('PeerAuth CRD mirrors bounds.ts', () => {
  const s = schemaOf('peerauths.yaml');
  it('modes, selector and port-level bounds', () => {
    for (const p of ['spec.mtls.mode', 'spec.portLevelMtls{}.mode']) expect(at(s, p)).toMatchObject({ enum: [...b.MTLS_MODES], default: 'UNSET' });
    expect(at(s, 'spec.selector.matchLabels')).toMatchObject({ minProperties: 1, maxProperties: b.PeerAuthBounds.matchLabelsMax });
    expect(at(s, 'spec.portLevelMtls')).toMatchObject({ maxProperties: b.PeerAuthBounds.portLevelMtlsMax });
    expect(rules(at(s, 'spec.portLevelMtls'))).toContain(`k.matches('${b.PORT_KEY.source}') && int(k) <= ${b.PORT_MAX}`);
  });
  it('matchLabels keys and values are Kubernetes label syntax', () => {
    const keys = rules(at(s, 'spec.selector.matchLabels'));
    expect(keys).toContain(`k.matches(r'${b.LABEL_KEY_PATTERN}')`);
    expect(keys).toContain(`k.indexOf('/') <= ${b.LABEL_PREFIX_MAX} && size(k) - k.indexOf('/') - 1 <= ${b.LABEL_NAME_MAX} : size(k) <= ${b.LABEL_NAME_MAX}`);
    expect(at(s, 'spec.selector.matchLabels{}')).toMatchObject({ type: 'string', maxLength: b.LABEL_VALUE_MAX, pattern: b.LABEL_VALUE.source });
  });
});

describe('BackendPolicy CRD mirrors bounds.ts', () => {
  const s = schemaOf('backendpolicies.yaml');
  const B = b.BackendPolicyBounds;
  it('algorithms, locality modes and the target', () => {
    expect(at(s, 'spec.loadBalancer.algorithm')).toMatchObject({ enum: [...b.LB_ALGORITHMS], default: 'RoundRobin' });
    expect(at(s, 'spec.locality.mode').enum).toEqual([...b.LOCALITY_MODES]);
    expect(rules(at(s, 'spec.loadBalancer'))).toContain(`self.algorithm in [${b.HASH_LB_ALGORITHMS.map((a) => `'${a}'`).join(', ')}]`);
    expect(at(s, 'spec.targetRef.name')).toMatchObject({ maxLength: b.DNS_LABEL_MAX, pattern: b.DNS1035_LABEL.source });
  });
  it.each(['maxConnections', 'maxPendingRequests', 'maxRequests', 'maxRequestsPerConnection'])('spec.connectionPool.%s bounds', (f) => {
    expect(at(s, `spec.connectionPool.${f}`)).toMatchObject({ type: 'integer', minimum: B.limitMin, maximum: B.limitMax });
  });
  it('hash keys', () => {
    for (const p of ['spec.loadBalancer.hashKey.header', 'spec.loadBalancer.hashKey.cookie.name'])
      expect(at(s, p)).toMatchObject({ minLength: 1, maxLength: b.HTTP_HEADER_NAME_MAX, pattern: b.HTTP_HEADER_NAME.source });
    const ttl = at(s, 'spec.loadBalancer.hashKey.cookie.ttl');
    expect(ttl).toMatchObject({ type: 'string', maxLength: b.DURATION_MAX_LENGTH, pattern: b.DURATION_PATTERN.source });
    expect(rules(ttl)).toBe(`duration(self) >= ${ms(B.cookieTtlMin)} && duration(self) <= ${ms(B.cookieTtlMax)}`);
    expect(at(s, 'spec.loadBalancer.hashKey.cookie.path')).toMatchObject({ maxLength: B.cookiePathMaxLength, pattern: '^/' });
  });
});

describe('RateLimitPolicy CRD mirrors bounds.ts', () => {
  const s = schemaOf('ratelimitpolicies.yaml');
  const B = b.RateLimitPolicyBounds;
  it.each(['spec.limit', 'spec.rules[].limit'])('%s: requests, burst and interval', (p) => {
    for (const f of ['requests', 'burst']) expect(at(s, `${p}.${f}`)).toMatchObject({ type: 'integer', minimum: B.requestsMin, maximum: B.requestsMax });
    const interval = at(s, `${p}.interval`);
    expect(interval).toMatchObject({ maxLength: b.DURATION_MAX_LENGTH, pattern: b.DURATION_PATTERN.source, default: B.intervalDefault });
    expect(rules(interval)).toBe(`duration(self) >= ${ms(B.intervalMin)} && duration(self) <= ${ms(B.intervalMax)}`);
  });
  it('rules, matches and methods', () => {
    expect(at(s, 'spec.rules')).toMatchObject({ maxItems: B.rulesMax });
    expect(at(s, 'spec.rules[].match.pathPrefix')).toMatchObject({ maxLength: B.pathMaxLength, default: '/' });
    expect(at(s, 'spec.rules[].match.method').enum).toEqual([...b.HTTP_METHODS]);
  });
});

describe('FaultPolicy CRD mirrors bounds.ts', () => {
  const s = schemaOf('faultpolicies.yaml');
  const B = b.FaultPolicyBounds;
  it('percentages, statuses, delay and headers', () => {
    for (const p of ['spec.delay.percentage', 'spec.abort.percentage'])
      expect(at(s, p)).toMatchObject({ type: 'number', minimum: B.percentMin, maximum: B.percentMax, default: B.percentDefault });
    expect(at(s, 'spec.abort.httpStatus')).toMatchObject({ minimum: B.httpStatusMin, maximum: B.httpStatusMax });
    expect(at(s, 'spec.abort.grpcStatus')).toMatchObject({ minimum: B.grpcStatusMin, maximum: B.grpcStatusMax });
    expect(rules(at(s, 'spec.delay.fixedDelay'))).toBe(`duration(self) >= ${ms(B.delayMin)} && duration(self) <= ${ms(B.delayMax)}`);
    expect(at(s, 'spec.headers')).toMatchObject({ maxItems: B.headersMax });
    expect(at(s, 'spec.headers[].name')).toMatchObject({ maxLength: b.HTTP_HEADER_NAME_MAX, pattern: b.HTTP_HEADER_NAME.source });
  });
});
