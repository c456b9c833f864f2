// The endpoint-free view non-EDS translation reads (src/model/endpoint-free.ts): models that
// differ only in endpoint addresses, readiness, workloads or zones share one view object;
// endpoint target ports (which resolve a named targetPort) are kept; only two views stay
// interned, so old config can be collected.
import { describe, expect, it } from 'vitest';
import { endpointFree } from '../../src/model/endpoint-free.ts';
import { buildModel } from '../../src/model/build.ts';
import { service, slice, type EndpointSpec } from './fixtures.ts';

const model = (...objects: Parameters<typeof buildModel>[0]) => buildModel(objects);

const build = (endpoints: EndpointSpec[], targetPort = 8080, svcPort = 80) =>
  model(service('web', [{ name: 'http', port: svcPort, targetPort: 'web' }]), slice('web-1', 'web', [{ name: 'http', port: targetPort }], endpoints));

describe('endpoint-free view of the model', () => {
  it('is one object for models that differ only in endpoint addresses, readiness, pods and zones', () => {
    const a = build([{ ip: '10.0.0.1', pod: 'a', zone: 'z1' }]);
    const b = build([
      { ip: '10.0.0.2', pod: 'b', zone: 'z2', ready: false },
      { ip: '10.0.0.3', pod: 'c' },
    ]);
    expect(a.version).not.toBe(b.version);
    expect(endpointFree(a)).toBe(endpointFree(b));
    expect(endpointFree(a)).toBe(endpointFree(a)); // memoized per model
  });

  it('keeps the distinct target ports, and nothing else of an endpoint', () => {
    const view = endpointFree(build([{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], 9090));
    const port = [...view.services.values()][0]!.ports[0]!;
    expect(port.endpoints).toEqual([{ address: '', port: 9090, ready: true }]);
    expect(endpointFree(build([{ ip: '10.0.0.1' }], 9091))).not.toBe(view); // another target port: another config
  });

  it('differs when the config does, and keeps only the current and the previous view', () => {
    const one = endpointFree(build([{ ip: '10.0.0.1' }], 8080, 81));
    const two = endpointFree(build([{ ip: '10.0.0.1' }], 8080, 82));
    expect(two).not.toBe(one);
    expect(endpointFree(build([{ ip: '10.0.0.9' }], 8080, 81))).toBe(one); // the previous one: still interned
    endpointFree(build([{ ip: '10.0.0.1' }], 8080, 83));
    endpointFree(build([{ ip: '10.0.0.1' }], 8080, 84));
    const again = endpointFree(build([{ ip: '10.0.0.1' }], 8080, 81));
    expect(again).not.toBe(one); // evicted: an equal view, built again
    expect(again.version).toBe(one.version);
  });
});
