// The authentication hook. Identity comes from the credential (a projected ServiceAccount
// token in call metadata, or a client certificate), never from node.id; verifying it is a
// later issue. Until then the server runs without the hook, and only on loopback.
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';

/** What an authenticator may look at: the call's metadata, peer and TLS context. */
export interface AuthCall {
  readonly metadata: Metadata;
  getPeer(): string;
  getAuthContext(): ReturnType<ServerDuplexStream<unknown, unknown>['getAuthContext']>;
}

/** `identity` (a SPIFFE id) becomes ProxyInfo.identity and so part of the proxy's group. */
export type AuthResult = { ok: true; identity?: string } | { ok: false; reason: string };

export type Authenticate = (call: AuthCall, node: Node) => AuthResult | Promise<AuthResult>;
