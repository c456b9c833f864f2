// Each `weftctl analyze` code: one input that triggers it and the nearest one that does not.
// A code's meaning is a contract with users' CI scripts, so the table also pins code ↔ name.
import { describe, expect, it } from 'vitest';
import { analyze, type AnalyzeInput, type NamespaceFacts, type PodFacts } from '../../src/analyze/analyze.ts';
import { CODES } from '../../src/analyze/findings.ts';
import { peerAuth, retry, service, slice, split } from '../model/fixtures.ts';

const http = [{ name: 'http', port: 8080 }];
const ready = (svc: string, ip: string) => slice(`${svc}-1`, svc, [{ name: 'http', port: 8080 }], [{ ip, ready: true }]);
const healthyShop = [
  service('web', http),
  service('web-v1', http),
  service('web-v2', http),
  ready('web', '10.0.0.1'),
  ready('web-v1', '10.0.0.2'),
  ready('web-v2', '10.0.0.3'),
];

const codes = (input: AnalyzeInput) => analyze(input).map((f) => `${f.code} ${f.object}`);
const ns = (name: string, meshed: boolean): NamespaceFacts => ({ name, meshed });
const pod = (namespace: string, name: string, sidecar: boolean, exempt = false): PodFacts => ({ namespace, name, sidecar, exempt });

describe('weftctl analyze codes', () => {
  it('are stable', () => {
    expect(Object.values(CODES).map((c) => `${c.code} ${c.name} ${c.severity}`)).toEqual([
      'WEFT0001 invalid-object Error',
      'WEFT0002 policy-not-accepted Error',
      'WEFT0003 policy-conflict Error',
      'WEFT0004 target-not-found Error',
      'WEFT0005 backend-no-ready-endpoints Error',
      'WEFT0006 backend-port-mismatch Error',
      'WEFT0007 strict-with-unmeshed-callers Warning',
      'WEFT0008 pod-without-sidecar Warning',
      'WEFT0009 sidecar-in-unlabelled-namespace Warning',
      'WEFT0010 port-protocol-unspecified Warning',
    ]);
  });

  it('a healthy split says nothing', () => {
    expect(codes({ objects: [...healthyShop, split('web', 'web', { 'web-v1': 90, 'web-v2': 10 })] })).toEqual([]);
  });

  it('WEFT0002: a policy the model does not accept', () => {
    const bad = split('web', 'web', { 'web-v1': 90, 'web-v2': 10 }, { matches: [{ headers: [{ name: 'x', type: 'RegularExpression', value: '(' }] }] });
    expect(codes({ objects: [...healthyShop, bad] })).toEqual(['WEFT0002 TrafficSplit shop/web']);
  });

  it('WEFT0003: two TrafficSplits for one Service', () => {
    const older = split('a', 'web', { 'web-v1': 100 }, { created: '2026-01-01T00:00:00Z' });
    const newer = split('b', 'web', { 'web-v2': 100 }, { created: '2026-02-01T00:00:00Z' });
    expect(codes({ objects: [...healthyShop, older, newer] })).toEqual(['WEFT0003 TrafficSplit shop/b']);
  });

  it('WEFT0004: a policy whose target or backend is missing', () => {
    expect(codes({ objects: [...healthyShop, retry('r', 'nope')] })).toEqual(['WEFT0004 RetryPolicy shop/r']);
    expect(codes({ objects: [...healthyShop, split('s', 'web', { 'web-v3': 100 })] })).toEqual(['WEFT0004 TrafficSplit shop/s']);
    expect(codes({ objects: [...healthyShop, retry('r', 'web')] })).toEqual([]);
  });

  it('WEFT0005: a backend with no ready endpoints (judged only when endpoints are known)', () => {
    const objects = [
      service('web', http),
      service('web-v1', http),
      service('web-v2', http),
      ready('web-v1', '10.0.0.2'),
      split('s', 'web', { 'web-v1': 50, 'web-v2': 50 }),
    ];
    const unready = slice('web-v2-1', 'web-v2', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.3', ready: false }]);
    expect(codes({ objects })).toEqual(['WEFT0005 TrafficSplit shop/s']);
    expect(codes({ objects, endpointsKnown: false })).toEqual([]);
    expect(codes({ objects: [...objects, unready], endpointsKnown: false })).toEqual(['WEFT0005 TrafficSplit shop/s']);
    expect(codes({ objects: [...objects, ready('web-v2', '10.0.0.3')] })).toEqual([]);
  });

  it('WEFT0006: a backend without the root HTTP port', () => {
    const objects = [service('web', http), service('web-v1', http), service('web-v2', [{ name: 'http', port: 9090 }]), ready('web-v1', '10.0.0.2')];
    const v2 = slice('web-v2-1', 'web-v2', [{ name: 'http', port: 9090 }], [{ ip: '10.0.0.3' }]);
    const found = analyze({ objects: [...objects, v2, split('s', 'web', { 'web-v1': 50, 'web-v2': 50 })] });
    expect(found.map((f) => f.code)).toEqual(['WEFT0006']);
    expect(found[0]!.message).toContain('no HTTP port 8080');
  });

  it('WEFT0007: STRICT while Pods in unmeshed namespaces exist', () => {
    const strict = peerAuth('strict', { mtls: { mode: 'STRICT' } }, { ns: 'shop' });
    const namespaces = [ns('shop', true), ns('legacy', false)];
    const meshedPods = [pod('shop', 'web-1', true)];
    expect(codes({ objects: [...healthyShop, strict], namespaces, pods: [...meshedPods, pod('legacy', 'cron-1', false)] })).toEqual([
      'WEFT0007 PeerAuth shop/strict',
    ]);
    expect(codes({ objects: [...healthyShop, strict], namespaces, pods: meshedPods })).toEqual([]);
    const permissive = peerAuth('p', { mtls: { mode: 'PERMISSIVE' } }, { ns: 'shop' });
    expect(codes({ objects: [...healthyShop, permissive], namespaces, pods: [...meshedPods, pod('legacy', 'cron-1', false)] })).toEqual([]);
  });

  it('WEFT0008: Pods without a sidecar in a labelled namespace (opted-out ones excepted)', () => {
    const namespaces = [ns('shop', true)];
    expect(codes({ objects: healthyShop, namespaces, pods: [pod('shop', 'old', false)] })).toEqual(['WEFT0008 Pod shop/old']);
    expect(codes({ objects: healthyShop, namespaces, pods: [pod('shop', 'job', false, true), pod('shop', 'new', true)] })).toEqual([]);
  });

  it('WEFT0009: sidecars in a namespace no longer labelled', () => {
    expect(codes({ objects: healthyShop, namespaces: [ns('shop', false)], pods: [pod('shop', 'web-1', true)] })).toEqual(['WEFT0009 Pod shop/web-1']);
    expect(
      codes({ objects: healthyShop, namespaces: [{ name: 'weft-system', meshed: false, infrastructure: true }], pods: [pod('weft-system', 'x', true)] }),
    ).toEqual([]);
  });

  it('WEFT0010: a Service port whose protocol nothing declares', () => {
    expect(codes({ objects: [service('db', [{ name: 'main', port: 5432 }])] })).toEqual(['WEFT0010 Service shop/db']);
    expect(codes({ objects: [service('db', [{ name: 'main', port: 5432, appProtocol: 'tcp' }]), service('api', [{ name: 'grpc-api', port: 9000 }])] })).toEqual(
      [],
    );
    // Only meshed namespaces matter when the namespaces are known.
    expect(codes({ objects: [service('db', [{ name: 'main', port: 5432 }])], namespaces: [ns('shop', false)], pods: [] })).toEqual([]);
  });

  it('orders errors before warnings', () => {
    const found = analyze({ objects: [service('db', [{ name: 'main', port: 5432 }]), retry('r', 'nope')] });
    expect(found.map((f) => f.severity)).toEqual(['Error', 'Warning']);
  });
});
