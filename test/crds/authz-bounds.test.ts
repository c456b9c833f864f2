// The AuthorizationPolicy CRD reads its bounds, patterns and vocabularies from bounds.ts
// (allow and deny share one rule schema, a YAML anchor: both are checked).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as b from '../../src/api/bounds.ts';

interface Schema {
  properties?: Record<string, Schema>;
  items?: Schema;
  [k: string]: unknown;
}

const crd = parse(readFileSync(new URL('../../crds/authorizationpolicies.yaml', import.meta.url), 'utf8')) as {
  spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
};
const root = crd.spec.versions[0]?.schema.openAPIV3Schema as Schema;

/** `spec.allow[].from.serviceAccounts[]`: [] steps into items. */
function at(path: string): Schema {
  let s: Schema | undefined = root;
  for (const part of path.split('.')) {
    s = s?.properties?.[part.replace(/\[\]$/, '')];
    if (part.endsWith('[]')) s = s?.items;
    if (!s) throw new Error(`no schema at ${path}`);
  }
  return s;
}

const B = b.AuthorizationBounds;

describe.each(['allow', 'deny'])('AuthorizationPolicy CRD spec.%s mirrors bounds.ts', (list) => {
  const r = (p: string) => at(`spec.${list}[].${p}`);
  it('rule counts', () => expect(at(`spec.${list}`)).toMatchObject({ maxItems: B.rulesMax }));
  it('identities', () => {
    for (const p of ['from.serviceAccounts', 'from.namespaces'])
      expect(r(p)).toMatchObject({ minItems: 1, maxItems: B.listMax, 'x-kubernetes-list-type': 'set' });
    // JavaScript escapes the "/" in RegExp.source; the CRD pattern need not.
    expect(r('from.serviceAccounts[]')).toMatchObject({ maxLength: B.serviceAccountMaxLength, pattern: b.SERVICE_ACCOUNT_REF.source.replace('\\/', '/') });
    expect(r('from.namespaces[]')).toMatchObject({ maxLength: b.DNS_LABEL_MAX, pattern: b.DNS1123_LABEL.source });
  });
  it('requests', () => {
    expect(r('to.paths')).toMatchObject({ maxItems: B.listMax });
    expect(r('to.paths[]')).toMatchObject({ maxLength: B.pathMaxLength, pattern: b.AUTHZ_PATH.source.replace('\\/', '/') });
    expect(r('to.methods')).toMatchObject({ maxItems: b.HTTP_METHODS.length });
    expect(r('to.methods[]').enum).toEqual([...b.HTTP_METHODS]);
    expect(r('to.headers')).toMatchObject({ minItems: 1, maxItems: B.headersMax });
    expect(r('to.headers[].name')).toMatchObject({ maxLength: b.HTTP_HEADER_NAME_MAX, pattern: b.HTTP_HEADER_NAME.source });
    expect(r('to.headers[].type').enum).toEqual([...b.HEADER_MATCH_TYPES]);
    expect(r('to.headers[].value')).toMatchObject({ minLength: 1, maxLength: B.valueMaxLength });
    expect(r('to.ports')).toMatchObject({ maxItems: B.listMax });
    expect(r('to.ports[]')).toMatchObject({ minimum: b.PORT_MIN, maximum: b.PORT_MAX });
  });
});

it('defaultAction is the action vocabulary', () => expect(at('spec.defaultAction').enum).toEqual([...b.AUTHZ_ACTIONS]));
