// The bounds on what one xDS client may cost (xds/server/limits.ts) and the timeouts of every
// listener (src/base/listener-timeouts.ts), as flags shared by `weft serve` and `weft
// controller`. docs/xds-limits.md says what each one protects.
import { z } from 'zod';
import { defaultListenerTimeouts, type ListenerTimeouts } from '../../base/listener-timeouts.ts';
import { defaultXdsLimits, type XdsLimits } from '../../../xds/server/limits.ts';
import { duration } from './flag-values.ts';
import type { FlagValues } from './flags.ts';

const LIMITS = 'xDS limits per client (docs/xds-limits.md; metric weft_xds_limit_exceeded_total{limit})';
const TIMEOUTS = 'Timeouts of every listener: xDS, webhook, monitoring (docs/xds-limits.md)';
const d = defaultXdsLimits;
const t = defaultListenerTimeouts;

const count = z
  .string()
  .regex(/^\d+$/, 'must be a positive integer')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n) && n >= 1, 'must be a positive integer');

const limit = (help: string, def: number) => ({ kind: 'value', value: 'N', help, default: String(def), section: LIMITS, schema: count }) as const;
const timeout = (help: string, defMs: number) =>
  ({ kind: 'value', value: 'DURATION', help, default: `${defMs / 1000}s`, section: TIMEOUTS, schema: duration({ ms: 100, text: '100ms' }) }) as const;

const workerCount = z
  .string()
  .regex(/^\d+$/, 'must be 0 or a positive integer')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n) && n <= 64, 'must be 0..64');

export const xdsLimitFlags = {
  'xds-workers': {
    kind: 'value',
    value: 'N',
    help: 'worker threads serving xDS streams (0: the main thread; docs/scale.md); needs a TCP --xds-address',
    default: '0',
    schema: workerCount,
  },
  'xds-max-message-bytes': limit('largest DiscoveryRequest', d.maxMessageBytes),
  'xds-max-streams-per-connection': limit('streams on one connection', d.maxStreamsPerConnection),
  'xds-max-names': limit('resource names one type may subscribe to on a stream', d.maxNames),
  'xds-max-name-length': limit('characters in a resource name', d.maxNameLength),
  'xds-max-node-bytes': limit("characters in a node's id, cluster and metadata", d.maxNodeBytes),
  'xds-max-queued-bytes': limit('unread response bytes per stream before new responses wait', d.maxQueuedBytes),
  'xds-max-queued-bytes-total': limit('the same, all streams together', d.maxQueuedBytesTotal),
  'xds-write-stall-timeout': {
    kind: 'value',
    value: 'DURATION',
    help: 'a stream whose responses stay unread this long is ended',
    default: `${d.writeStallMs / 1000}s`,
    section: LIMITS,
    schema: duration({ ms: 100, text: '100ms' }),
  },
  'xds-requests-per-second': limit('requests one stream may send on average', d.requestsPerSecond),
  'xds-request-burst': limit('... and at once', d.requestBurst),
  'xds-answer-bytes-per-second': limit("bytes of answers to one stream's requests per second (config pushes not counted)", d.answerBytesPerSecond),
  'xds-answer-burst-bytes': limit('... and at once', d.answerBurstBytes),
  'handshake-timeout': timeout('TLS handshake', t.handshakeMs),
  'request-timeout': timeout('one HTTP request, headers and body', t.requestMs),
  'idle-timeout': timeout('a connection with nothing in flight: keep-alive, xDS without streams', t.idleMs),
} as const;

type Values = FlagValues<typeof xdsLimitFlags>;

export function xdsLimitsFrom(v: Values): XdsLimits {
  return {
    maxMessageBytes: v['xds-max-message-bytes'],
    maxStreamsPerConnection: v['xds-max-streams-per-connection'],
    maxNames: v['xds-max-names'],
    maxNameLength: v['xds-max-name-length'],
    maxNodeBytes: v['xds-max-node-bytes'],
    maxQueuedBytes: v['xds-max-queued-bytes'],
    maxQueuedBytesTotal: v['xds-max-queued-bytes-total'],
    writeStallMs: v['xds-write-stall-timeout'],
    requestsPerSecond: v['xds-requests-per-second'],
    requestBurst: v['xds-request-burst'],
    answerBytesPerSecond: v['xds-answer-bytes-per-second'],
    answerBurstBytes: v['xds-answer-burst-bytes'],
  };
}

export function listenerTimeoutsFrom(v: Values): ListenerTimeouts {
  return { handshakeMs: v['handshake-timeout'], requestMs: v['request-timeout'], idleMs: v['idle-timeout'] };
}
