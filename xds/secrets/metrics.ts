// SDS metrics: workload certificates issued (first connect vs renewal), failures, and how
// many identities currently hold a certificate. Never labelled by identity (cardinality).
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../../src/base/metrics.ts';

export const sdsMetrics = {
  issued: new Counter({
    name: 'weft_sds_certificates_issued_total',
    help: 'Workload certificates issued, by reason (first: an identity connected; renewal: rotated before expiry).',
    labelNames: ['reason'] as const,
    registers: [metricsRegistry],
  }),
  failures: new Counter({
    name: 'weft_sds_certificate_failures_total',
    help: 'Workload certificate issuances that failed (retried with backoff; the previous certificate keeps serving).',
    registers: [metricsRegistry],
  }),
  identities: new Gauge({
    name: 'weft_sds_identities',
    help: 'Identities with a cached workload certificate.',
    registers: [metricsRegistry],
  }),
  evicted: new Counter({
    name: 'weft_sds_identities_evicted_total',
    help: 'Identities whose certificate was dropped instead of renewed because no proxy used it for a whole renewal period.',
    registers: [metricsRegistry],
  }),
};
