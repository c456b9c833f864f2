// Snapshot cache metrics: how often config is generated and encoded, and why a snapshot
// was held back. Encodes should grow with config changes, never with proxy count.
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../../src/base/metrics.ts';

export const snapshotMetrics = {
  generations: new Counter({
    name: 'weft_xds_snapshot_generations_total',
    help: 'Snapshots generated (one per proxy group per model version).',
    registers: [metricsRegistry],
  }),
  rejected: new Counter({
    name: 'weft_xds_snapshot_rejected_total',
    help: 'Snapshots not published because generation failed or the consistency check found problems.',
    labelNames: ['reason'] as const,
    registers: [metricsRegistry],
  }),
  encodes: new Counter({
    name: 'weft_xds_resources_encoded_total',
    help: 'Resource messages serialized (shared messages are serialized once).',
    registers: [metricsRegistry],
  }),
  groups: new Gauge({
    name: 'weft_xds_snapshot_groups',
    help: 'Proxy groups with a memoized snapshot.',
    registers: [metricsRegistry],
  }),
};
