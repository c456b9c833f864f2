// Per-response and per-ACK metrics are tallied in plain numbers and reach prom-client when
// it is read (xds/server/metrics.ts): nothing is lost, and a scrape sees every count.
import { describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/base/metrics.ts';
import { ackLatency, adsMetrics, tally } from '../../xds/server/metrics.ts';

const value = async (name: string, type: string, metricName = name): Promise<number> => {
  const m = metricsRegistry.getSingleMetric(name);
  const { values } = await m!.get();
  return values.find((v) => v.labels.type === type && ((v as { metricName?: string }).metricName ?? name) === metricName)?.value ?? 0;
};

describe('tallied ADS metrics', () => {
  it('are published when read, counted once', async () => {
    const before = await value('weft_xds_pushes_total', 'tally-test');
    for (let i = 0; i < 1000; i++) tally.push('tally-test');
    tally.ack('tally-test');
    tally.nack('tally-test');
    expect(await value('weft_xds_pushes_total', 'tally-test')).toBe(before + 1000);
    expect(await value('weft_xds_pushes_total', 'tally-test')).toBe(before + 1000); // drained, not counted again
    expect(await value('weft_xds_acks_total', 'tally-test')).toBeGreaterThanOrEqual(1);
    expect(await value('weft_xds_nacks_total', 'tally-test')).toBeGreaterThanOrEqual(1);
    expect(await metricsRegistry.metrics()).toContain('weft_xds_pushes_total{type="tally-test"');
  });

  it('observes ACK latencies on read, and in batches when nobody reads', async () => {
    const count = () => value('weft_xds_push_ack_seconds', 'lat-test', 'weft_xds_push_ack_seconds_count');
    ackLatency('lat-test', 0.02);
    expect(await count()).toBe(1);
    for (let i = 0; i < 5000; i++) ackLatency('lat-test', 0.02);
    const direct = Object.values((adsMetrics.pushAckSeconds as unknown as { hashMap: Record<string, { count: number; labels: { type?: string } }> }).hashMap);
    expect(direct.find((e) => e.labels.type === 'lat-test')?.count).toBeGreaterThanOrEqual(4096 + 1); // a batch went in unread
    expect(await count()).toBe(5001);
  });
});
