// Service and EndpointSlice schemas accept what the API server serves (including
// nulls, Dates from client-node and fields we ignore) and name the field they reject.
import { describe, expect, it } from 'vitest';
import { parseObject } from '../../src/api/objects.ts';
import { expectProblem, expectValid, withPatch } from './schema-test-support.ts';

const svc = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'checkout', namespace: 'shop', uid: 'u-1', resourceVersion: '42', managedFields: [{ manager: 'kubectl' }] },
  spec: {
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    ipFamilyPolicy: 'SingleStack',
    selector: { app: 'checkout' },
    ports: [
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
      { name: 'grpc', port: 9090, targetPort: 9090, appProtocol: 'grpc' },
    ],
  },
  status: { loadBalancer: {} },
};

const eps = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'checkout-x7k2p', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'checkout' } },
  addressType: 'IPv4',
  endpoints: [
    {
      addresses: ['10.244.0.5'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'n1',
      zone: 'a',
      targetRef: { kind: 'Pod', name: 'p', namespace: 'shop', uid: 'x' },
    },
    { addresses: ['10.244.0.6'], conditions: { ready: null, serving: null, terminating: null }, targetRef: null, zone: null },
  ],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: null }],
};

describe('Service', () => {
  it('accepts a real object, drops fields Weft does not read, defaults namespace and protocol', () => {
    const o = expectValid(withPatch(svc, { metadata: { name: 'checkout', namespace: undefined, creationTimestamp: new Date('2024-01-02T03:04:05Z') } }));
    expect(o.kind).toBe('Service');
    if (o.kind !== 'Service') return;
    expect(o.metadata.namespace).toBe('default');
    expect(o.metadata.creationTimestamp).toBe('2024-01-02T03:04:05.000Z');
    expect(o.spec.ports[1]?.protocol).toBe('TCP');
    expect(o).not.toHaveProperty('status');
    expect(o.spec).not.toHaveProperty('clusterIPs');
  });

  it('accepts an ExternalName service without ports', () => {
    expectValid({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  });

  it.each([
    ['name not DNS-1035', { metadata: { name: '1checkout' } }, 'metadata.name', 'DNS-1035'],
    ['namespace not DNS-1123', { metadata: { namespace: 'Shop' } }, 'metadata.namespace', 'DNS-1123'],
    ['labels not strings', { metadata: { labels: { app: 1 } } }, 'metadata.labels.app', 'must be a string'],
    ['port out of range', { spec: { ports: [{ name: 'http', port: 70000 }] } }, 'spec.ports[0].port', 'between 1 and 65535'],
    [
      'targetPort invalid',
      { spec: { ports: [{ name: 'http', port: 80, targetPort: 'Not_A_Name' }] } },
      'spec.ports[0].targetPort',
      'port number 1..65535 or a container port name',
    ],
    ['unnamed port among several', { spec: { ports: [{ port: 80 }, { name: 'b', port: 81 }] } }, 'spec.ports[0].name', 'more than one port'],
    [
      'duplicate port names',
      {
        spec: {
          ports: [
            { name: 'a', port: 80 },
            { name: 'a', port: 81 },
          ],
        },
      },
      'spec.ports[1].name',
      'duplicate port name',
    ],
    ['bad protocol', { spec: { ports: [{ name: 'a', port: 80, protocol: 'ICMP' }] } }, 'spec.ports[0].protocol', 'TCP, UDP, SCTP'],
    ['bad type', { spec: { type: 'Ingress' } }, 'spec.type', 'ClusterIP'],
  ])('rejects %s', (_, patch, field, reason) => {
    expectProblem(withPatch(svc, patch), field, reason);
  });
});

describe('EndpointSlice', () => {
  it('accepts nulls the API server sends and a slice with no endpoints', () => {
    expectValid(eps);
    expectValid(withPatch(eps, { endpoints: null, ports: null }));
    expectValid(withPatch(eps, { ports: [{ name: '', port: null }] }));
  });

  it.each([
    ['missing addressType', { addressType: undefined }, 'addressType', 'IPv4, IPv6, FQDN'],
    ['endpoint without addresses', { endpoints: [{ addresses: [] }] }, 'endpoints[0].addresses', 'at least one address'],
    ['ready not boolean', { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: 'yes' } }] }, 'endpoints[0].conditions.ready', 'boolean'],
    ['port out of range', { ports: [{ name: 'http', port: 0 }] }, 'ports[0].port', 'between 1 and 65535'],
    ['bad service-name label type', { metadata: { labels: { 'kubernetes.io/service-name': 5 } } }, 'metadata.labels["kubernetes.io/service-name"]', 'string'],
  ])('rejects %s', (_, patch, field, reason) => {
    expectProblem(withPatch(eps, patch), field, reason);
  });
});

describe('parseObject dispatch', () => {
  it('names kind for unknown kinds and apiVersion for a wrong group', () => {
    expectProblem({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, 'kind', 'unsupported kind "ConfigMap"');
    expectProblem({ apiVersion: 'v1' }, 'kind', 'is required');
    expectProblem({ ...svc, apiVersion: 'v2' }, 'apiVersion', 'must be v1 for kind Service');
    expectProblem({ ...eps, apiVersion: 'discovery.k8s.io/v1beta1' }, 'apiVersion', 'discovery.k8s.io/v1');
  });

  it('never throws on garbage', () => {
    for (const raw of [null, 42, 'Service', [], { kind: {} }, { kind: 'Service', apiVersion: 'v1', metadata: 'x', spec: [] }]) {
      expect(parseObject(raw).ok).toBe(false);
    }
  });
});
