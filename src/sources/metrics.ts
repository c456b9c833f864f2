// Config source metrics: what an operator graphs to see that edits are being rejected.
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../base/metrics.ts';

export const configReloads = new Counter({
  name: 'weft_config_reloads_total',
  help: 'Config source reloads, by source kind and whether the state changed.',
  labelNames: ['source', 'result'] as const,
  registers: [metricsRegistry],
});

export const configProblems = new Gauge({
  name: 'weft_config_problems',
  help: 'Config problems (rejected documents, duplicates, kept last-good objects) in the current state.',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const configObjects = new Gauge({
  name: 'weft_config_objects',
  help: 'Config objects served in the current state, by kind.',
  labelNames: ['source', 'kind'] as const,
  registers: [metricsRegistry],
});
