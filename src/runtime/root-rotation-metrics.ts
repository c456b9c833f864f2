// Root rotation metrics: the phase, proxies ACKed, phase durations, transitions, errors.
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../base/metrics.ts';

export const rotationMetrics = {
  phase: new Gauge({
    name: 'weft_ca_rotation_phase',
    help: 'Root CA rotation: 1 for the phase in progress (trust, sign, retire, done), 0 for the others; all 0 when none runs.',
    labelNames: ['phase'] as const,
    registers: [metricsRegistry],
  }),
  proxies: new Gauge({
    name: 'weft_ca_rotation_proxies',
    help: "Root CA rotation: connected proxies holding secrets (state=connected) and those that ACKed the phase's secrets (state=acked).",
    labelNames: ['state'] as const,
    registers: [metricsRegistry],
  }),
  duration: new Gauge({
    name: 'weft_ca_rotation_phase_duration_seconds',
    help: 'Root CA rotation: how long each phase of the last rotation lasted.',
    labelNames: ['phase'] as const,
    registers: [metricsRegistry],
  }),
  transitions: new Counter({
    name: 'weft_ca_rotation_transitions_total',
    help: 'Root CA rotation phases entered (trust = a rotation started, done = one finished).',
    labelNames: ['phase'] as const,
    registers: [metricsRegistry],
  }),
  errors: new Counter({
    name: 'weft_ca_rotation_errors_total',
    help: 'Root CA rotation passes that failed (invalid next material, store errors); retried on the next pass.',
    registers: [metricsRegistry],
  }),
};
