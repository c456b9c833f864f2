import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../src/base/metrics.ts';

export const admissions = new Counter({
  name: 'weft_webhook_admissions_total',
  help: 'Admission reviews answered, by endpoint, result (injected, skipped, allowed, denied, invalid, error) and reason code.',
  labelNames: ['endpoint', 'result', 'reason'] as const,
  registers: [metricsRegistry],
});

export const admissionSeconds = new Histogram({
  name: 'weft_webhook_admission_duration_seconds',
  help: 'Time to answer an admission review, parse to response.',
  labelNames: ['endpoint'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers: [metricsRegistry],
});
