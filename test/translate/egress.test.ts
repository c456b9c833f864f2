// Egress scope in translation (xds/translate/egress.ts): a scoped proxy gets a subset of what
// an unscoped one gets — the very same cluster, CLA and per-service route messages (encoded
// once for both) — plus the split backends of its Services; unscoped output never changes.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkConsistency, translate } from '../../xds/translate/index.ts';
import { proxyGroupKey, type ProxyInfo } from '../../xds/resources/proxy.ts';
import { loadScenario } from './support.ts';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = fileURLToPath(new URL('./golden', import.meta.url));
const { model, proxy } = loadScenario(join(root, 'egress-scoped'));
const unscoped: ProxyInfo = (({ egress: _e, ...rest }) => rest)(proxy);
const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name);

describe('egress scope', () => {
  it('keeps only the selected Services and their split backends', () => {
    const set = translate(model, proxy);
    expect(names(set.clusters)).toEqual([
      'PassthroughCluster',
      'outbound|5432||ledger.payments.svc.cluster.local',
      'outbound|8080||billing.payments.svc.cluster.local',
      'outbound|8080||checkout-v1.shop.svc.cluster.local',
      'outbound|8080||checkout-v2.shop.svc.cluster.local',
      'outbound|8080||checkout.shop.svc.cluster.local',
    ]);
    expect(names(set.routes)).toEqual(['8080', 'outbound|8080||billing.payments.svc.cluster.local', 'outbound|8080||checkout.shop.svc.cluster.local']);
    expect(names(set.listeners)).toEqual(['0.0.0.0_5432', '0.0.0.0_8080', 'virtualInbound', 'virtualOutbound']);
  });

  it('shares the unscoped messages: clusters, CLAs and per-service route configs are the same objects', () => {
    const scoped = translate(model, proxy);
    const full = translate(model, unscoped);
    for (const c of scoped.clusters) expect(full.clusters).toContain(c);
    for (const e of scoped.endpoints) expect(full.endpoints).toContain(e);
    for (const r of scoped.routes.filter((r) => r.name.startsWith('outbound|'))) expect(full.routes).toContain(r);
  });

  it('gives equal scopes the same output and keeps unscoped group keys unchanged', () => {
    expect(translate(model, { ...proxy, id: 'another' })).toBe(translate(model, proxy));
    expect(proxyGroupKey(unscoped)).not.toContain('egress');
    expect(proxyGroupKey(proxy)).toBe(`${proxyGroupKey(unscoped)}|egress=payments/*,shop/checkout`);
  });

  it('a scope selecting nothing leaves passthrough and inbound only', () => {
    const set = translate(model, { ...proxy, egress: ['nowhere/*'] });
    expect(names(set.clusters)).toEqual(['PassthroughCluster']);
    expect(names(set.listeners)).toEqual(['virtualInbound', 'virtualOutbound']);
    expect(set.routes).toEqual([]);
    expect(set.endpoints).toEqual([]);
  });

  it('is consistent for every golden scenario under several scopes', () => {
    const scenarios = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory());
    for (const name of scenarios) {
      const s = loadScenario(join(root, name));
      for (const egress of [['nowhere/*'], [`${s.proxy.namespace}/*`], ['*/web', 'billing/*'], ['shop/checkout']]) {
        const set = translate(s.model, { ...s.proxy, egress });
        expect(checkConsistency(set), `${name} ${egress.join(',')}`).toEqual([]);
        const full = translate(s.model, (({ egress: _e, ...rest }) => rest)(s.proxy));
        for (const c of set.clusters)
          expect(
            full.clusters.map((x) => x.name),
            name,
          ).toContain(c.name);
      }
    }
  });
});
