// `weftctl preview`: the Envoy configuration a change would cause, per proxy group, without
// applying anything. Pure: two models (the cluster's, and the cluster's with the candidate
// objects over it) are translated for every proxy by the same functions the control plane
// serves with, and the results compared resource by resource. Proxies whose translation is
// the same object (translation is memoized per spec) form one group.
import { equals, toJson, type JsonValue, type Message } from '@bufbuild/protobuf';
import jsonPatch from 'fast-json-patch';
import type { MeshModel } from '../model/types.ts';
import { compareStrings } from '../base/order.ts';
import type { ProxyInfo } from '../../xds/resources/proxy.ts';
import { envoyRegistry } from '../../xds/resources/registry.ts';
import { resourceTypes, type ResourceType } from '../../xds/resources/type-urls.ts';
import { translate, type ResourceSet } from '../../xds/translate/index.ts';

export type ChangeKind = 'added' | 'changed' | 'removed';

export interface ResourceChange {
  /** cds, eds, lds, rds. */
  readonly type: ResourceType['label'];
  readonly name: string;
  readonly change: ChangeKind;
  /** RFC 6902 operations from the old resource's JSON to the new one (changed only). */
  readonly patch?: readonly jsonPatch.Operation[];
}

export interface PreviewGroup {
  /** The proxies (ids) that receive exactly this change. */
  readonly proxies: readonly string[];
  readonly changes: readonly ResourceChange[];
}

export interface Preview {
  readonly groups: readonly PreviewGroup[];
  /** Proxies whose configuration does not change. */
  readonly unaffected: number;
}

const TYPES = resourceTypes.filter((t) => t.setField !== 'secrets'); // SDS comes from the CA, not the model

function json(t: ResourceType, m: Message): JsonValue {
  return toJson(t.schema, m, { registry: envoyRegistry });
}

function diffSets(before: ResourceSet, after: ResourceSet): ResourceChange[] {
  const out: ResourceChange[] = [];
  for (const t of TYPES) {
    const old = new Map((before[t.setField] as readonly Message[]).map((m) => [t.nameOf(m), m]));
    const now = new Map((after[t.setField] as readonly Message[]).map((m) => [t.nameOf(m), m]));
    for (const name of [...new Set([...old.keys(), ...now.keys()])].sort(compareStrings)) {
      const a = old.get(name);
      const b = now.get(name);
      if (!a) out.push({ type: t.label, name, change: 'added' });
      else if (!b) out.push({ type: t.label, name, change: 'removed' });
      else if (a !== b && !equals(t.schema, a, b)) {
        const patch = jsonPatch.compare(json(t, a) as object, json(t, b) as object);
        out.push({ type: t.label, name, change: 'changed', patch });
      }
    }
  }
  return out;
}

export function preview(before: MeshModel, after: MeshModel, proxies: readonly ProxyInfo[]): Preview {
  // Group by the pair of translation results: memoized, so equal specs give the same objects.
  const groups = new Map<ResourceSet, Map<ResourceSet, string[]>>();
  for (const p of proxies) {
    const a = translate(before, p);
    const b = translate(after, p);
    const inner = groups.get(a) ?? new Map<ResourceSet, string[]>();
    inner.set(b, [...(inner.get(b) ?? []), p.id]);
    groups.set(a, inner);
  }
  const out: PreviewGroup[] = [];
  let unaffected = 0;
  for (const [a, inner] of groups) {
    for (const [b, ids] of inner) {
      const changes = diffSets(a, b);
      if (changes.length === 0) unaffected += ids.length;
      else out.push({ proxies: ids.sort(compareStrings), changes });
    }
  }
  out.sort((x, y) => compareStrings(x.proxies[0] ?? '', y.proxies[0] ?? ''));
  return { groups: out, unaffected };
}
