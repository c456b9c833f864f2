// The secrets generator is chosen where the control plane is built: the first snapshot an
// authenticated proxy can get already carries its identity's secrets (no window in which a
// later swap has not happened yet), and a rotation regenerates that identity's group.
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../src/runtime/control-plane.ts';
import type { ConfigSource, ConfigState } from '../../src/sources/source.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { TypeUrl } from '../../xds/resources/type-urls.ts';
import { trustBundleSecret } from '../../xds/secrets/resources.ts';
import type { SecretsProvider } from '../../xds/secrets/generator.ts';

const empty: ConfigState = { objects: [], problems: [] };
const source: ConfigSource = {
  start: async (onChange) => onChange(empty),
  stop: async () => {},
};
const identity = 'spiffe://cluster.local/ns/shop/sa/web';
const proxy = (id?: string): ProxyInfo => ({
  id: 'web-1.shop',
  kind: 'sidecar',
  namespace: 'shop',
  labels: {},
  capture: true,
  ...(id ? { identity: id } : {}),
});

let cp: ControlPlane | undefined;
afterEach(async () => {
  await cp?.close();
  cp = undefined;
});

describe('startControlPlane with secrets', () => {
  it("serves an identity's secrets from the first snapshot, and regenerates its group on rotation", async () => {
    let bundle = 'bundle-1';
    let rotate: ((identity: string) => void) | undefined;
    const secrets: SecretsProvider = {
      secretsFor: (id) => (id === identity ? [trustBundleSecret(bundle)] : []),
      onRotate: (l) => {
        rotate = l;
        return () => (rotate = undefined);
      },
    };
    cp = await startControlPlane({ source, xdsAddress: '127.0.0.1:0', secrets });
    const first = cp.cache.snapshotFor(proxy(identity));
    expect([...(first?.resources.get(TypeUrl.Secret)?.keys() ?? [])]).toEqual(['ROOTCA']);
    expect(cp.cache.snapshotFor(proxy())?.resources.get(TypeUrl.Secret)?.size ?? 0).toBe(0);

    bundle = 'bundle-2';
    rotate?.(identity);
    const second = cp.cache.snapshotFor(proxy(identity));
    expect(second?.version).not.toBe(first?.version);
    await cp.close();
    expect(rotate).toBeUndefined(); // closing unsubscribes
    cp = undefined;
  });
});
