// One Prometheus registry for the process. Each component declares its own metrics
// next to its code, registered here, so /metrics shows everything an operator graphs.
import { Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels({ app: 'weft' });
collectDefaultMetrics({ register: metricsRegistry, prefix: 'weft_process_' });
