// Readable builders for translation tests: config objects come from the model tests'
// builders (they go through parseObject, so defaults match real documents), models from
// the real buildModel, proxies from a few named shapes.
import type { ConfigObject } from '../../src/api/objects.ts';
import { buildModel } from '../../src/model/build.ts';
import type { MeshModel } from '../../src/model/types.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';

export { peerAuth, retry, service, slice, split } from '../model/fixtures.ts';

export function model(...objects: ConfigObject[]): MeshModel {
  return buildModel(objects);
}

/** A captured sidecar in `namespace`, fronting `service` when given. */
export function sidecar(namespace = 'shop', service?: string, id = `${namespace}-sidecar`): ProxyInfo {
  return { id, kind: 'sidecar', namespace, labels: {}, capture: true, ...(service ? { service } : {}) };
}

/** A standalone proxy without capture: the explicit HTTP proxy listener. */
export function explicitProxy(namespace = 'shop', id = `${namespace}-explicit`): ProxyInfo {
  return { id, kind: 'sidecar', namespace, labels: {}, capture: false };
}

export function proxylessClient(namespace = 'shop', id = `${namespace}-grpc`): ProxyInfo {
  return { id, kind: 'proxyless', namespace, labels: {}, capture: false };
}
