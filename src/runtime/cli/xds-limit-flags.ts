// The xDS server's bounds on what one client may cost (xds/server/limits.ts), as flags shared
// by `weft serve` and `weft controller`. docs/xds-limits.md says what each one protects.
import { parseDurationMs } from '../../api/duration.ts';
import { defaultXdsLimits, type XdsLimits } from '../../../xds/server/limits.ts';
import { defaultListenerTimeouts, type ListenerTimeouts } from '../../base/listener-timeouts.ts';

const d = defaultXdsLimits;

export const xdsLimitOptions = {
  'xds-max-message-bytes': { type: 'string' },
  'xds-max-streams-per-connection': { type: 'string' },
  'xds-max-names': { type: 'string' },
  'xds-max-name-length': { type: 'string' },
  'xds-max-node-bytes': { type: 'string' },
  'xds-max-queued-bytes': { type: 'string' },
  'xds-max-queued-bytes-total': { type: 'string' },
  'xds-write-stall-timeout': { type: 'string' },
  'xds-requests-per-second': { type: 'string' },
  'xds-request-burst': { type: 'string' },
  'handshake-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
} as const;

export const xdsLimitUsage = `xDS limits per client (docs/xds-limits.md; metric weft_xds_limit_exceeded_total{limit}):
  --xds-max-message-bytes N          largest DiscoveryRequest (${d.maxMessageBytes})
  --xds-max-streams-per-connection N streams on one connection (${d.maxStreamsPerConnection})
  --xds-max-names N                  resource names one type may subscribe to on a stream (${d.maxNames})
  --xds-max-name-length N            characters in a resource name (${d.maxNameLength})
  --xds-max-node-bytes N             characters in a node's id, cluster and metadata (${d.maxNodeBytes})
  --xds-max-queued-bytes N           unread response bytes per stream before responses wait (${d.maxQueuedBytes})
  --xds-max-queued-bytes-total N     the same, all streams together (${d.maxQueuedBytesTotal})
  --xds-write-stall-timeout DURATION a stream whose responses stay unread this long is ended (${d.writeStallMs / 1000}s)
  --xds-requests-per-second N        requests one stream may send on average (${d.requestsPerSecond})
  --xds-request-burst N              ... and at once (${d.requestBurst})

Timeouts of every listener (xDS, webhook, monitoring; docs/xds-limits.md):
  --handshake-timeout DURATION       TLS handshake (${defaultListenerTimeouts.handshakeMs / 1000}s)
  --request-timeout DURATION         one HTTP request, headers and body (${defaultListenerTimeouts.requestMs / 1000}s)
  --idle-timeout DURATION            a connection with nothing in flight: keep-alive, xDS without streams (${defaultListenerTimeouts.idleMs / 1000}s)
`;

type Values = Partial<Record<keyof typeof xdsLimitOptions, string | undefined>>;

function count(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: "${text}" is not a positive integer`);
  return n;
}

/** The limits the flags set; throws naming the flag on a bad value. */
export function parseXdsLimits(values: Values): Partial<XdsLimits> {
  const stall = values['xds-write-stall-timeout'];
  const stallMs = stall === undefined ? undefined : parseDurationMs(stall);
  if (stall !== undefined && (stallMs === undefined || stallMs < 100))
    throw new Error(`--xds-write-stall-timeout: "${stall}" is not a duration of at least 100ms`);
  const entries: [keyof XdsLimits, number | undefined][] = [
    ['maxMessageBytes', count('xds-max-message-bytes', values['xds-max-message-bytes'])],
    ['maxStreamsPerConnection', count('xds-max-streams-per-connection', values['xds-max-streams-per-connection'])],
    ['maxNames', count('xds-max-names', values['xds-max-names'])],
    ['maxNameLength', count('xds-max-name-length', values['xds-max-name-length'])],
    ['maxNodeBytes', count('xds-max-node-bytes', values['xds-max-node-bytes'])],
    ['maxQueuedBytes', count('xds-max-queued-bytes', values['xds-max-queued-bytes'])],
    ['maxQueuedBytesTotal', count('xds-max-queued-bytes-total', values['xds-max-queued-bytes-total'])],
    ['writeStallMs', stallMs],
    ['requestsPerSecond', count('xds-requests-per-second', values['xds-requests-per-second'])],
    ['requestBurst', count('xds-request-burst', values['xds-request-burst'])],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
}

function timeout(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 100) throw new Error(`--${name}: "${text}" is not a duration of at least 100ms`);
  return ms;
}

/** The listener timeouts the flags set (defaults for the rest); throws naming the flag on a bad value. */
export function parseListenerTimeouts(values: Values): ListenerTimeouts {
  return {
    handshakeMs: timeout('handshake-timeout', values['handshake-timeout']) ?? defaultListenerTimeouts.handshakeMs,
    requestMs: timeout('request-timeout', values['request-timeout']) ?? defaultListenerTimeouts.requestMs,
    idleMs: timeout('idle-timeout', values['idle-timeout']) ?? defaultListenerTimeouts.idleMs,
  };
}
