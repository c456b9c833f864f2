// The caBundle patch: only webhooks whose bundle differs, each guarded by a test on its name.
import { describe, expect, it } from 'vitest';
import { caBundlePatch } from '../../src/runtime/controller/cabundle.ts';

const cfg = (...bundles: (string | undefined)[]) => ({
  metadata: { name: 'weft-inject' },
  webhooks: bundles.map((b, i) => ({
    name: `w${i}.weft.dev`,
    clientConfig: { url: 'https://127.0.0.1:9443/inject', ...(b === undefined ? {} : { caBundle: b }) },
  })),
});

describe('caBundlePatch', () => {
  it('is empty when every webhook already carries the bundle', () => {
    expect(caBundlePatch(cfg('QQ==', 'QQ=='), 'QQ==')).toEqual([]);
  });
  it('sets a blank, missing or stale bundle, testing each webhook name first', () => {
    expect(caBundlePatch(cfg('', 'QQ==', undefined, 'Qg=='), 'QQ==')).toEqual([
      { op: 'test', path: '/webhooks/0/name', value: 'w0.weft.dev' },
      { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: 'QQ==' },
      { op: 'test', path: '/webhooks/2/name', value: 'w2.weft.dev' },
      { op: 'add', path: '/webhooks/2/clientConfig/caBundle', value: 'QQ==' },
      { op: 'test', path: '/webhooks/3/name', value: 'w3.weft.dev' },
      { op: 'add', path: '/webhooks/3/clientConfig/caBundle', value: 'QQ==' },
    ]);
  });
  it('reports an object that is not a webhook configuration', () => {
    expect(caBundlePatch({ webhooks: 'x' }, 'QQ==')).toHaveProperty('invalid');
    expect(caBundlePatch({ metadata: { name: 'x' } }, 'QQ==')).toEqual([]);
  });
});
