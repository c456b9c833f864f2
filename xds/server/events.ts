// What the protocol reducers report (ACKs, NACKs, stale answers) as logs and metrics.
import type { Logger } from '../../src/base/log.ts';
import type { ProtocolEvent } from '../protocol/state.ts';
import { ackLatency, tally, typeLabel } from './metrics.ts';

export function reportEvents(log: Logger, events: readonly ProtocolEvent[]): void {
  for (const e of events) {
    const type = typeLabel(e.typeUrl);
    if (e.kind === 'stale') {
      log.debug({ typeUrl: e.typeUrl, nonce: e.nonce, latest: e.latest }, 'stale nonce ignored');
      continue;
    }
    // sentAt (performance.now() when written) is set for answers to the latest response.
    if (e.sentAt !== undefined) ackLatency(type, (performance.now() - e.sentAt) / 1000);
    if (e.kind === 'ack') {
      tally.ack(type);
      log.debug({ typeUrl: e.typeUrl, nonce: e.nonce, version: e.version }, 'ACK');
    } else {
      tally.nack(type);
      log.warn({ typeUrl: e.typeUrl, nonce: e.nonce, version: e.version, error: e.message }, 'proxy rejected config (NACK); it keeps its last good config');
    }
  }
}
