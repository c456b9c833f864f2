// The ResourceType table: the order and flags the protocol reducers and the encoder rely on.
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { fullStateTypes, isKnownTypeUrl, pushOrder, resourceType, resourceTypes, TypeUrl, typeOf } from '../../xds/resources/type-urls.ts';

describe('ResourceType table', () => {
  it('pushes SDS, then CDS → EDS → LDS → RDS', () => {
    expect(pushOrder.map((t) => typeOf(t).label)).toEqual(['sds', 'cds', 'eds', 'lds', 'rds']);
  });

  it('has one row per type URL, each label and ResourceSet list once', () => {
    expect(new Set(resourceTypes.map((t) => t.typeUrl)).size).toBe(Object.values(TypeUrl).length);
    expect(new Set(resourceTypes.map((t) => t.label)).size).toBe(resourceTypes.length);
    expect(new Set(resourceTypes.map((t) => t.setField)).size).toBe(resourceTypes.length);
  });

  it('carries the full state in SotW for CDS and LDS only', () => {
    expect([...fullStateTypes].map((t) => resourceType(t)?.label).sort()).toEqual(['cds', 'lds']);
  });

  it('resends what a changed resource warms on only after it in push order', () => {
    for (const t of resourceTypes) {
      if (t.resendOnChange === undefined) continue;
      expect(t.references).toContain(t.resendOnChange);
      expect(pushOrder.indexOf(t.resendOnChange)).toBeGreaterThan(pushOrder.indexOf(t.typeUrl));
    }
  });

  it('names a CLA by its cluster name and knows only the served types', () => {
    expect(typeOf(TypeUrl.Endpoint).nameOf(create(ClusterLoadAssignmentSchema, { clusterName: 'outbound|80||a' }))).toBe('outbound|80||a');
    expect(isKnownTypeUrl(TypeUrl.Secret)).toBe(true);
    expect(isKnownTypeUrl('type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig')).toBe(false);
    expect(resourceType('')).toBeUndefined();
  });
});
