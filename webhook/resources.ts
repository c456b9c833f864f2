// Proxy resources from values, overridden per pod by annotation. Quantities are compared so
// an annotation that raises a request above the values' limit raises the limit too (the API
// server would otherwise reject the pod: requests must not exceed limits).
import { QUANTITY_RE } from './values.ts';
import { compareStrings } from '../src/base/order.ts';

export interface ResourceList {
  cpu?: string;
  memory?: string;
}
export interface Resources {
  requests: ResourceList;
  limits: ResourceList;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The quantity's value (approximate, enough to compare), or undefined when not a quantity. */
export function quantityValue(q: string): number | undefined {
  if (!QUANTITY_RE.test(q)) return undefined;
  const m = /^([0-9.]+)(.*)$/.exec(q);
  if (!m) return undefined;
  const num = Number(m[1]);
  const suffix = m[2] ?? '';
  if (/^[eE]/.test(suffix)) return num * 10 ** Number(suffix.slice(1));
  const mult = SUFFIX[suffix];
  return mult === undefined ? undefined : num * mult;
}

/** Applies cpu/memory request overrides; `warnings` gets a sentence per rejected value. */
export function proxyResources(
  base: Resources,
  overrides: { cpu?: string; memory?: string },
  warnings: string[],
  names: { cpu: string; memory: string },
): Resources {
  const out: Resources = { requests: { ...base.requests }, limits: { ...base.limits } };
  for (const res of ['cpu', 'memory'] as const) {
    const value = overrides[res];
    if (value === undefined) continue;
    const v = quantityValue(value);
    if (v === undefined) {
      warnings.push(`annotation ${names[res]}: "${value}" is not a Kubernetes quantity; using ${base.requests[res] ?? 'no request'}`);
      continue;
    }
    out.requests[res] = value;
    const limit = out.limits[res];
    if (limit !== undefined && (quantityValue(limit) ?? Infinity) < v) out.limits[res] = value;
  }
  return out;
}

/** Drops empty lists so the container spec carries no `{}` noise. */
export function resourcesSpec(r: Resources): Record<string, ResourceList> {
  const spec: Record<string, ResourceList> = {};
  if (Object.keys(r.requests).length) spec.requests = sortKeys(r.requests);
  if (Object.keys(r.limits).length) spec.limits = sortKeys(r.limits);
  return spec;
}

function sortKeys(r: ResourceList): ResourceList {
  return Object.fromEntries(
    Object.entries(r)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compareStrings(a, b)),
  ) as ResourceList;
}
