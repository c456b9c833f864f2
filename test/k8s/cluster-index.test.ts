// What the cluster index keeps of a Namespace: its labels, and of its annotations only
// weft.dev/egress (the egress scope its sidecars default to); the rest is dropped.
import { describe, expect, it } from 'vitest';
import { toNamespace } from '../../src/k8s/cluster-index.ts';

describe('toNamespace', () => {
  it('keeps weft.dev/egress and drops other annotations', () => {
    const ns = toNamespace({
      metadata: { name: 'shop', labels: { team: 'a' }, annotations: { 'weft.dev/egress': './*', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    });
    expect(ns).toEqual({ name: 'shop', labels: { team: 'a' }, annotations: { 'weft.dev/egress': './*' }, terminating: false });
    expect(toNamespace({ metadata: { name: 'plain' } })?.annotations).toEqual({});
  });
});
