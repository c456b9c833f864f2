// BackendPolicy rows of the CRD parity table (cases.ts spreads them in): every cross-field
// rule, bound and vocabulary, each rejection naming its field on both sides.
import { LB_ALGORITHMS } from '../../src/api/bounds.ts';
import { bad, doc, ok, type CrdCase } from './case-builders.ts';

const bp = (over: Record<string, unknown> = {}) => doc('BackendPolicy', { targetRef: { kind: 'Service', name: 'reviews' }, ...over });
const lb = (loadBalancer: unknown) => bp({ loadBalancer });
const pool = (connectionPool: unknown) => bp({ connectionPool });

export const backendCases: readonly CrdCase[] = [
  // ---- valid ---------------------------------------------------------------------------
  ...LB_ALGORITHMS.filter((a) => a !== 'RingHash' && a !== 'Maglev').map((a) => ok(`BP: algorithm ${a}`, lb({ algorithm: a }))),
  ok('BP: RingHash on a header', lb({ algorithm: 'RingHash', hashKey: { header: 'x-user' } })),
  ok('BP: Maglev on a cookie with ttl and path', lb({ algorithm: 'Maglev', hashKey: { cookie: { name: 'session', ttl: '1h', path: '/' } } })),
  ok('BP: RingHash on the source IP', lb({ algorithm: 'RingHash', hashKey: { sourceIP: true } })),
  ok('BP: sourceIP false beside a header is one key', lb({ algorithm: 'RingHash', hashKey: { header: 'x-user', sourceIP: false } })),
  ok('BP: an empty loadBalancer defaults to RoundRobin', lb({})),
  ok('BP: zone failover alone', bp({ locality: { mode: 'Failover' } })),
  ok('BP: every pool limit at its bounds', pool({ maxConnections: 1, maxPendingRequests: 4294967295, maxRequests: 2, maxRequestsPerConnection: 1 })),
  ok('BP: an empty connectionPool (no limits)', pool({})),
  ok('BP: cookie ttl at its bounds', lb({ algorithm: 'Maglev', hashKey: { cookie: { name: 's', ttl: '8760h' } } })),
  // ---- invalid: vocabulary, bounds -----------------------------------------------------
  bad('BP: unknown algorithm', lb({ algorithm: 'WeightedLeastConnections' }), 'spec.loadBalancer.algorithm'),
  bad('BP: algorithm in the wrong case', lb({ algorithm: 'roundrobin' }), 'spec.loadBalancer.algorithm'),
  bad('BP: negative maxConnections', pool({ maxConnections: -1 }), 'spec.connectionPool.maxConnections'),
  bad('BP: zero maxRequests', pool({ maxRequests: 0 }), 'spec.connectionPool.maxRequests'),
  bad('BP: maxPendingRequests above uint32', pool({ maxPendingRequests: 4294967296 }), 'spec.connectionPool.maxPendingRequests'),
  bad('BP: fractional maxRequestsPerConnection', pool({ maxRequestsPerConnection: 1.5 }), 'spec.connectionPool.maxRequestsPerConnection'),
  bad('BP: unknown locality mode', bp({ locality: { mode: 'Distribute' } }), 'spec.locality.mode'),
  bad('BP: locality without mode', bp({ locality: {} }), 'spec.locality.mode'),
  bad('BP: header not a token', lb({ algorithm: 'RingHash', hashKey: { header: 'x user' } }), 'spec.loadBalancer.hashKey.header'),
  bad('BP: cookie without a name', lb({ algorithm: 'RingHash', hashKey: { cookie: { ttl: '1h' } } }), 'spec.loadBalancer.hashKey.cookie.name'),
  bad('BP: cookie ttl below 1s', lb({ algorithm: 'RingHash', hashKey: { cookie: { name: 's', ttl: '999ms' } } }), 'spec.loadBalancer.hashKey.cookie.ttl'),
  bad('BP: cookie path not absolute', lb({ algorithm: 'RingHash', hashKey: { cookie: { name: 's', path: 'cart' } } }), 'spec.loadBalancer.hashKey.cookie.path'),
  bad('BP: targetRef kind not Service', bp({ targetRef: { kind: 'Deployment', name: 'reviews' } }), 'spec.targetRef.kind'),
  bad('BP: unknown field (typo connectionpool)', bp({ connectionpool: { maxConnections: 1 } }), 'spec.connectionpool'),
  // ---- invalid: cross-field ------------------------------------------------------------
  bad('BP: RingHash without a hashKey', lb({ algorithm: 'RingHash' }), 'spec.loadBalancer.hashKey'),
  bad('BP: Maglev without a hashKey', lb({ algorithm: 'Maglev' }), 'spec.loadBalancer.hashKey'),
  bad('BP: a hashKey on LeastRequest', lb({ algorithm: 'LeastRequest', hashKey: { header: 'x-user' } }), 'spec.loadBalancer.hashKey'),
  bad('BP: a hashKey on the default algorithm', lb({ hashKey: { sourceIP: true } }), 'spec.loadBalancer.hashKey'),
  bad('BP: an empty hashKey', lb({ algorithm: 'RingHash', hashKey: {} }), 'spec.loadBalancer.hashKey'),
  bad('BP: hashKey with sourceIP false only', lb({ algorithm: 'RingHash', hashKey: { sourceIP: false } }), 'spec.loadBalancer.hashKey'),
  bad('BP: two hash keys', lb({ algorithm: 'RingHash', hashKey: { header: 'x-user', cookie: { name: 's' } } }), 'spec.loadBalancer.hashKey'),
  bad('BP: nothing to do (only a targetRef)', bp(), 'spec'),
];
