// /validate for Weft CRs, decided by the model: RE2-incompatible regular expressions are
// denied with the model's message, missing backends and conflicts admitted with a warning.
import { describe, expect, it } from 'vitest';
import { parseObject, type ConfigObject } from '../../src/api/objects.ts';
import { crValidator } from '../../webhook/validate-crs.ts';
import type { AdmissionRequest } from '../../webhook/admission.ts';

const NS = 'shop';

function obj(raw: Record<string, unknown>): ConfigObject {
  const r = parseObject(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.object;
}
const service = (name: string) => obj({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ port: 80 }] } });
const split = (name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'mesh.weft.dev/v1alpha1',
  kind: 'TrafficSplit',
  metadata: { name, namespace: NS, creationTimestamp: '2024-01-01T00:00:00Z', ...extra },
  spec,
});
const request = (object: Record<string, unknown>, operation: AdmissionRequest['operation'] = 'CREATE'): AdmissionRequest => ({
  uid: 'u1',
  kind: { group: 'mesh.weft.dev', version: 'v1alpha1', kind: String(object.kind) },
  namespace: NS,
  name: String((object.metadata as { name: string }).name),
  operation,
  object,
});

describe('crValidator', () => {
  const stored: ConfigObject[] = [service('checkout'), service('checkout-v1'), service('checkout-v2')];
  const validate = crValidator({ objectsIn: (ns) => (ns === NS ? stored : []), inScope: () => true, controlPlaneNamespace: 'weft-system' });
  const backends = [
    { service: 'checkout-v1', weight: 90 },
    { service: 'checkout-v2', weight: 10 },
  ];

  it('BackendPolicy: admits a valid one, denies RingHash without a key naming the field, warns about a missing target', async () => {
    const bp = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'BackendPolicy',
      metadata: { name, namespace: NS },
      spec,
    });
    const target = { kind: 'Service', name: 'checkout' };
    expect(await validate(request(bp('lb', { targetRef: target, loadBalancer: { algorithm: 'LeastRequest' } })))).toEqual({ allowed: true });
    expect(await validate(request(bp('lb', { targetRef: target, loadBalancer: { algorithm: 'RingHash' } })))).toMatchObject({
      allowed: false,
      message: expect.stringContaining('spec.loadBalancer.hashKey: is required when algorithm is RingHash'),
    });
    const missing = await validate(request(bp('lb', { targetRef: { kind: 'Service', name: 'nope' }, connectionPool: { maxRequests: 2 } })));
    expect(missing).toMatchObject({ allowed: true, warnings: [expect.stringContaining(`Service ${NS}/nope not found`)] });
  });

  it('FaultPolicy and RateLimitPolicy: a regex RE2 cannot run is denied, a bad rate names the field, a missing target warns', async () => {
    const policy = (kind: string, spec: Record<string, unknown>) => ({
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind,
      metadata: { name: 'p', namespace: NS },
      spec: { targetRef: { kind: 'Service', name: 'checkout' }, ...spec },
    });
    const lookaround = await validate(
      request(policy('FaultPolicy', { abort: { httpStatus: 503 }, headers: [{ name: 'x', type: 'RegularExpression', value: '(?!a)' }] })),
    );
    expect(lookaround).toMatchObject({ allowed: false, message: expect.stringContaining('spec.headers[0].value: lookaround') });
    const negative = await validate(request(policy('RateLimitPolicy', { limit: { requests: -1 } })));
    expect(negative).toMatchObject({ allowed: false, message: expect.stringContaining('spec.limit.requests') });
    expect(await validate(request(policy('RateLimitPolicy', { limit: { requests: 10 } })))).toEqual({ allowed: true });
    const early = await validate(
      request({
        ...policy('FaultPolicy', { delay: { fixedDelay: '1s' } }),
        spec: { targetRef: { kind: 'Service', name: 'nope' }, delay: { fixedDelay: '1s' } },
      }),
    );
    expect(early).toMatchObject({ allowed: true, warnings: [expect.stringContaining('Service shop/nope not found')] });
  });

  it('admits a split whose backends exist, without warnings', async () => {
    expect(await validate(request(split('canary', { service: 'checkout', backends })))).toEqual({ allowed: true });
  });

  it('warns about a backend that does not exist in the namespace', async () => {
    const r = await validate(request(split('canary', { service: 'checkout', backends: [{ service: 'checkout-v9', weight: 1 }] })));
    expect(r).toMatchObject({ allowed: true, warnings: [expect.stringContaining(`Service ${NS}/checkout-v9 not found`)] });
  });

  it('admits a split for a Service that does not exist yet, warning that it is not accepted until then', async () => {
    const r = await validate(request(split('early', { service: 'checkout-next', backends })));
    expect(r).toMatchObject({
      allowed: true,
      warnings: [`weft: Service ${NS}/checkout-next not found: there is nothing to split; the split is applied once the Service exists`],
    });
    const outside = crValidator({ objectsIn: () => [], inScope: () => false, controlPlaneNamespace: 'weft-system' });
    expect(await outside(request(split('early', { service: 'checkout-next', backends })))).toEqual({ allowed: true });
    const rp = {
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'RetryPolicy',
      metadata: { name: 'r', namespace: NS },
      spec: { targetRef: { kind: 'Service', name: 'later' } },
    };
    expect(await validate(request(rp))).toEqual({
      allowed: true,
      warnings: [`weft: Service ${NS}/later not found; the policy is applied once the Service exists`],
    });
  });

  it('denies a regular expression RE2 cannot run, naming the field', async () => {
    const r = await validate(
      request(split('canary', { service: 'checkout', backends, matches: [{ path: { type: 'RegularExpression', value: '/(?!admin).*' } }] })),
    );
    expect(r).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/spec\.matches\[0\]\.path\.value: lookaround assertions are not supported by RE2/),
    });
    const h = await validate(
      request(split('canary', { service: 'checkout', backends, matches: [{ headers: [{ name: 'x', type: 'RegularExpression', value: '(a)\\1' }] }] })),
    );
    expect(h).toMatchObject({ allowed: false, message: expect.stringContaining('backreferences') });
  });

  it('denies a regular expression over Envoy’s RE2 program size, and admits what JavaScript cannot compile but RE2 can', async () => {
    const header = (value: string) =>
      request(split('canary', { service: 'checkout', backends, matches: [{ headers: [{ name: 'x-session', type: 'RegularExpression', value }] }] }));
    expect(await validate(header('^[0-9a-f]{64}$'))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/spec\.matches\[0\]\.headers\[0\]\.value: its RE2 program size is 130, over Envoy's limit of 100/),
    });
    expect(await validate(header('^[0-9a-f]{32}$'))).toEqual({ allowed: true });
    expect(await validate(header('(?i)^canary$'))).toEqual({ allowed: true });
  });

  it('warns when another split already owns the service; the stored version of the same object is replaced, not a rival', async () => {
    const older = obj(split('first', { service: 'checkout', backends }, { creationTimestamp: '2023-01-01T00:00:00Z' }));
    const v = crValidator({ objectsIn: () => [...stored, older], inScope: () => true, controlPlaneNamespace: 'weft-system' });
    expect(await v(request(split('second', { service: 'checkout', backends })))).toMatchObject({
      allowed: true,
      warnings: [expect.stringContaining('already split')],
    });
    expect(await v(request(split('first', { service: 'checkout', backends }, { creationTimestamp: '2023-01-01T00:00:00Z' }), 'UPDATE'))).toEqual({
      allowed: true,
    });
  });

  it('denies what fails the schema, and ignores other kinds and operations', async () => {
    expect(await validate(request(split('bad', { service: 'checkout', backends: [] })))).toMatchObject({
      allowed: false,
      message: expect.stringContaining('spec.backends'),
    });
    expect(await validate({ ...request(split('x', {})), kind: { group: '', version: 'v1', kind: 'Pod' } })).toEqual({ allowed: true });
    expect(await validate(request(split('x', {}), 'DELETE'))).toEqual({ allowed: true });
  });

  it('does not warn about references outside the mesh (no Services are cached there)', async () => {
    const v = crValidator({ objectsIn: () => [], inScope: () => false, controlPlaneNamespace: 'weft-system' });
    expect(await v(request(split('canary', { service: 'checkout', backends })))).toEqual({ allowed: true });
  });
});
