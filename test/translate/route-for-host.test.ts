// test/support/envoy-routes.ts finds the route Envoy would take for a Host in a config dump,
// including a ClusterIP service's own config, whose one virtual host takes any Host.
import { describe, expect, it } from 'vitest';
import { routeForHost } from '../support/envoy-routes.ts';

const dump = (rc: unknown) => ({ configs: [{ dynamic_route_configs: [{ route_config: rc }] }] });
const vhost = (name: string, domains: string[], cluster: string) => ({ name, domains, routes: [{ match: { prefix: '/' }, route: { cluster } }] });

describe('routeForHost', () => {
  it('matches a domain, else the per-service config named by the host', () => {
    const byHost = dump({ name: '8080', virtual_hosts: [vhost('ledger.bank.svc.cluster.local:8080', ['ledger.bank:8080'], 'ledger')] });
    expect(routeForHost(byHost, 'ledger.bank:8080')?.clusters).toEqual([{ name: 'ledger', weight: 100 }]);
    const own = dump({ name: 'outbound|8080||cart.shop.svc.cluster.local', virtual_hosts: [vhost('cart.shop.svc.cluster.local:8080', ['*'], 'cart')] });
    expect(routeForHost(own, 'cart.shop:8080')?.routeConfig).toBe('outbound|8080||cart.shop.svc.cluster.local');
    expect(routeForHost(own, 'cart.bank:8080')).toBeUndefined();
  });
});
