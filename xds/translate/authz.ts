// AuthorizationPolicy → Envoy RBAC on the inbound side (src/model/authz.ts says what a
// workload enforces). Per inbound chain, at most two RBAC filters, in this order:
//   authz_deny   action DENY:  the deny rules (deny wins: it runs first);
//   authz_allow  action ALLOW: the allow rules, present only when the default is deny
//                (an ALLOW filter with no policy denies everything: default deny).
// Each carries `rules` (enforced) and, when a dry-run policy applies, `shadow_rules` (what
// would be enforced with the dry-run policies in force): Envoy counts those verdicts in
// `<prefix>rbac.authz_{deny,allow}.shadow_{allowed,denied}` and writes them to dynamic
// metadata (`envoy.filters.http.rbac`, `authz_*.shadow_engine_result`) for access logs.
//
// HTTP chains use envoy.filters.http.rbac (a denied request gets a 403 whose body names the
// matched policy); TCP chains use envoy.filters.network.rbac (a denied connection is closed).
// Identities: a rule's service accounts, namespaces and "mesh" become URI SAN matchers in
// the proxy's trust domain; callers without a verified certificate match only `any` and
// `unauthenticated` (not_id authenticated). Ports are known per chain, so a rule naming
// other ports is dropped from that chain; on a TCP chain an allow rule with HTTP conditions
// never matches (dropped), a deny rule's HTTP conditions are ignored (deny stays strict).
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { RBAC_Action, type PermissionSchema, type PolicySchema, type PrincipalSchema } from '../gen/envoy/config/rbac/v3/rbac_pb.js';
import { ComparisonFilter_Op } from '../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { FilterSchema, type Filter } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { RBACSchema as HttpRbacSchema } from '../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import {
  HttpFilterSchema,
  LocalReplyConfigSchema,
  type HttpFilter,
  type LocalReplyConfig,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { AuthzRule, AuthzTo } from '../../src/model/types.ts';
import type { AuthzSet, NamedRule, WorkloadAuthz } from '../../src/model/authz.ts';
import { FilterName } from './common.ts';
import { headerMatcher } from './matchers.ts';

type Policy = MessageInitShape<typeof PolicySchema>;
type Permission = MessageInitShape<typeof PermissionSchema>;
type Principal = MessageInitShape<typeof PrincipalSchema>;
type Rules = MessageInitShape<typeof HttpRbacSchema>['rules'];

/** Where the rules are evaluated: an HTTP or TCP chain, for one known port or any (passthrough). */
export interface AuthzContext {
  readonly http: boolean;
  /** The chain's target port; absent: the passthrough chain (match on the destination port). */
  readonly port?: number;
  /** The proxy's trust domain; absent: no TLS, so no caller is ever authenticated. */
  readonly trustDomain?: string;
}

const ANY_PERMISSION: Permission = { rule: { case: 'any', value: true } };
const AUTHENTICATED: Principal = { identifier: { case: 'authenticated', value: {} } };

function uriSan(match: { case: 'exact' | 'prefix'; value: string }): Principal {
  return { identifier: { case: 'authenticated', value: { principalName: { matchPattern: match } } } };
}

function principals(rule: AuthzRule, deny: boolean, td: string): Principal[] {
  // No `from`: an allow rule admits any verified identity; a deny rule refuses everyone.
  if (!rule.from) return [deny ? { identifier: { case: 'any', value: true } } : AUTHENTICATED];
  const f = rule.from;
  return [
    ...(f.mesh ? [uriSan({ case: 'prefix', value: `spiffe://${td}/` })] : []),
    ...f.namespaces.map((ns) => uriSan({ case: 'prefix', value: `spiffe://${td}/ns/${ns}/sa/` })),
    ...f.serviceAccounts.map((sa) => {
      const [ns, name] = sa.split('/');
      return uriSan({ case: 'exact', value: `spiffe://${td}/ns/${ns}/sa/${name}` });
    }),
    ...(f.unauthenticated ? [{ identifier: { case: 'notId', value: AUTHENTICATED } } as Principal] : []),
  ];
}

const anyOf = (rules: Permission[]): Permission => (rules.length === 1 ? (rules[0] as Permission) : { rule: { case: 'orRules', value: { rules } } });

function pathPermission(p: string): Permission {
  const pattern =
    p === '*'
      ? undefined
      : p.endsWith('*')
        ? ({ case: 'prefix', value: p.slice(0, -1) } as const)
        : p.startsWith('*')
          ? ({ case: 'suffix', value: p.slice(1) } as const)
          : ({ case: 'exact', value: p } as const);
  if (!pattern) return ANY_PERMISSION;
  return { rule: { case: 'urlPath', value: { rule: { case: 'path', value: { matchPattern: pattern } } } } };
}

/** The permission of a rule's `to` here, or undefined when the rule cannot match on this chain. */
function permission(to: AuthzTo | undefined, deny: boolean, ctx: AuthzContext): Permission | undefined {
  if (!to) return ANY_PERMISSION;
  const conds: Permission[] = [];
  if (to.ports.length > 0) {
    if (ctx.port !== undefined && !to.ports.includes(ctx.port)) return undefined;
    if (ctx.port === undefined) conds.push(anyOf(to.ports.map((p) => ({ rule: { case: 'destinationPort', value: p } }))));
  }
  const httpOnly = to.paths.length + to.methods.length + to.headers.length > 0;
  if (httpOnly && !ctx.http && !deny) return undefined;
  if (ctx.http) {
    if (to.paths.length > 0) conds.push(anyOf(to.paths.map(pathPermission)));
    if (to.methods.length > 0)
      conds.push(anyOf(to.methods.map((m) => ({ rule: { case: 'header', value: headerMatcher({ name: ':method', type: 'Exact', value: m }) } }))));
    for (const h of to.headers) conds.push({ rule: { case: 'header', value: headerMatcher(h) } });
  }
  if (conds.length === 0) return ANY_PERMISSION;
  return conds.length === 1 ? conds[0] : { rule: { case: 'andRules', value: { rules: conds } } };
}

function policies(rules: readonly NamedRule[], deny: boolean, ctx: AuthzContext): Record<string, Policy> {
  const out: Record<string, Policy> = {};
  // Without a certificate nobody is authenticated: any trust domain matches nothing.
  const td = ctx.trustDomain ?? 'cluster.local';
  for (const { name, rule } of rules) {
    const perm = permission(rule.to, deny, ctx);
    if (perm) out[name] = { permissions: [perm], principals: principals(rule, deny, td) };
  }
  return out;
}

interface RbacPair {
  readonly prefix: 'authz_deny' | 'authz_allow';
  readonly rules?: Rules;
  readonly shadowRules?: Rules;
}

/** The DENY then ALLOW filter configs for a set (enforced) and its dry-run twin (shadow). */
function pairs(authz: WorkloadAuthz, ctx: AuthzContext): RbacPair[] {
  const deny = (set: AuthzSet | undefined): Rules | undefined =>
    set && set.deny.length > 0 ? { action: RBAC_Action.DENY, policies: policies(set.deny, true, ctx) } : undefined;
  const allow = (set: AuthzSet | undefined): Rules | undefined =>
    set?.defaultDeny ? { action: RBAC_Action.ALLOW, policies: policies(set.allow, false, ctx) } : undefined;
  const out: RbacPair[] = [];
  for (const [prefix, of] of [
    ['authz_deny', deny],
    ['authz_allow', allow],
  ] as const) {
    const rules = of(authz.enforced);
    const shadowRules = of(authz.dryRun);
    if (rules || shadowRules) out.push({ prefix, ...(rules ? { rules } : {}), ...(shadowRules ? { shadowRules } : {}) });
  }
  return out;
}

/** The inbound HCM's authorization filters (before rate limit and the router). */
export function httpAuthzFilters(authz: WorkloadAuthz | undefined, ctx: Omit<AuthzContext, 'http'>): HttpFilter[] {
  if (!authz) return [];
  return pairs(authz, { ...ctx, http: true }).map((p) => {
    const rbac = create(HttpRbacSchema, {
      ...(p.rules ? { rules: p.rules } : {}),
      rulesStatPrefix: `${p.prefix}.`,
      ...(p.shadowRules ? { shadowRules: p.shadowRules } : {}),
      shadowRulesStatPrefix: `${p.prefix}.`,
    });
    return create(HttpFilterSchema, { name: `${FilterName.httpRbac}.${p.prefix}`, configType: { case: 'typedConfig', value: anyPack(HttpRbacSchema, rbac) } });
  });
}

/** A TCP chain's authorization filters (before tcp_proxy): a denied connection is closed. */
export function networkAuthzFilters(authz: WorkloadAuthz | undefined, ctx: Omit<AuthzContext, 'http'>, statPrefix: string): Filter[] {
  if (!authz) return [];
  return pairs(authz, { ...ctx, http: false }).map((p) => {
    const rbac = create(NetworkRbacSchema, {
      statPrefix: `${statPrefix}.${p.prefix}.`,
      ...(p.rules ? { rules: p.rules } : {}),
      ...(p.shadowRules ? { shadowRules: p.shadowRules } : {}),
    });
    return create(FilterSchema, { name: FilterName.networkRbac, configType: { case: 'typedConfig', value: anyPack(NetworkRbacSchema, rbac) } });
  });
}

/**
 * The body of an inbound local 403: says who refused and why, with Envoy's details
 * (`rbac_access_denied_matched_policy[<ns>/<policy>:deny[0]]`, or `[none]` for the default).
 */
export const AUTHZ_DENIED_BODY = 'weft: access denied by AuthorizationPolicy (%RESPONSE_CODE_DETAILS%)\n';

export function authzLocalReply(): LocalReplyConfig {
  return create(LocalReplyConfigSchema, {
    mappers: [
      {
        filter: {
          filterSpecifier: {
            case: 'statusCodeFilter',
            value: { comparison: { op: ComparisonFilter_Op.EQ, value: { defaultValue: 403, runtimeKey: 'weft.authz.denied_status' } } },
          },
        },
        bodyFormatOverride: { format: { case: 'textFormatSource', value: { specifier: { case: 'inlineString', value: AUTHZ_DENIED_BODY } } } },
      },
    ],
  });
}
