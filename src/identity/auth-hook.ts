// The authentication hook (the contract between xds/server and identity: the server depends
// on identity, never the reverse). The server calls it with the first request of every ADS stream
// (and every unary SDS fetch) before it serves anything; a refusal ends the call with
// UNAUTHENTICATED and the reason. Identity comes from the credential, never from node.id;
// src/identity/authenticate.ts implements both modes:
//   token        `authorization: Bearer <projected ServiceAccount token>` (injected sidecars),
//                verified locally by src/identity/token.ts — signature against the API
//                server's keys (OIDC discovery + JWKS), issuer, audience `weft`, expiry, and
//                the bound Pod still existing with that UID;
//   certificate  a client certificate from the mesh CA (proxies outside Kubernetes, `weft
//                bootstrap --ca-dir`), chain-verified by the TLS layer and read as an
//                X.509-SVID by src/identity/client-cert.ts.
// The identity returned becomes ProxyInfo.identity: part of the proxy's group key, and the
// only identity whose certificate it is served over SDS. Without a hook (plaintext, which
// xds/server/start.ts allows on loopback only) proxies have no identity and get no secrets.
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { EgressDecision } from '../api/egress.ts';

/** What an authenticator may look at: the call's metadata, peer and TLS context. */
export interface AuthCall {
  readonly metadata: Metadata;
  getPeer(): string;
  getAuthContext(): ReturnType<ServerDuplexStream<unknown, unknown>['getAuthContext']>;
}

/**
 * What the credential proves about where the proxy runs: its namespace always (token claims,
 * or the SPIFFE id of a client certificate), and for a token its bound Pod's ServiceAccount
 * and labels (from the pod informer). xds/server/scope.ts holds the proxy's node metadata to
 * it: a different namespace is refused, the labels replace the claimed ones.
 */
export interface ProxyScope {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The bound Pod's labels (token credentials with a pod lookup that knows them). */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The bound Pod's egress scope (src/api/egress.ts decideEgress): replaces node metadata
   * WEFT_EGRESS, like the labels. Not a security boundary, but the same source as them.
   */
  readonly egress?: EgressDecision;
}

/** `identity` (a SPIFFE id) becomes ProxyInfo.identity and so part of the proxy's group. */
export type AuthResult = { ok: true; identity?: string; scope?: ProxyScope } | { ok: false; reason: string };

/** What of the proxy's Node the hook sees: its id, for logs only (never the identity). */
export interface AuthNode {
  readonly id: string;
}

export type Authenticate = (call: AuthCall, node: AuthNode) => AuthResult | Promise<AuthResult>;
