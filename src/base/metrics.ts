// One Prometheus registry for the process. Each component declares its own metrics
// next to its code, registered here, so /metrics shows everything an operator graphs.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels({ app: 'weft' });
collectDefaultMetrics({ register: metricsRegistry, prefix: 'weft_process_' });

/** When each named certificate in service expires (rotation.ts sets it on install; the CA root at load). */
export const certificateExpiry = new Gauge({
  name: 'weft_certificate_expiry_timestamp_seconds',
  help: 'Expiry (notAfter, Unix seconds) of the certificate in service: ca-root, xds-serving, webhook-serving.',
  labelNames: ['certificate'] as const,
  registers: [metricsRegistry],
});
