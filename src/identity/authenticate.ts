// The xDS server's Authenticate hook (src/identity/auth-hook.ts). A proxy proves its identity with
//  (a) `authorization: Bearer <projected ServiceAccount token>` (injected sidecars), verified
//      locally by token.ts, or
//  (b) a client certificate from the mesh CA (proxies outside Kubernetes), verified by the
//      TLS layer against the trust bundle and read by client-cert.ts.
// A call carrying a token is judged by the token alone. Anything else is refused with a
// reason the proxy sees in its stream status, a warning log and a metric by reason code.
// The identity never comes from node.id.
import { clip } from '../base/clip.ts';
import type { Logger } from '../base/log.ts';
import { log as rootLog } from '../base/log.ts';
import type { AuthCall, AuthResult, Authenticate } from './auth-hook.ts';
import { parseSpiffeId } from '../ca/spiffe.ts';
import { identityFromCertificate } from './client-cert.ts';
import { identityMetrics } from './metrics.ts';
import type { TokenVerifier } from './token.ts';

export interface AuthenticatorOptions {
  /** Bearer-token verification; without it tokens are refused (client certificates only). */
  readonly tokens?: Pick<TokenVerifier, 'verify'>;
  /** Trust domain client-certificate identities must belong to. */
  readonly trustDomain: string;
  /** Accept client certificates (default true). */
  readonly clientCertificates?: boolean;
  readonly log?: Logger;
}

type Method = 'token' | 'certificate' | 'none';

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/;

export function createAuthenticator(opts: AuthenticatorOptions): Authenticate {
  const log = (opts.log ?? rootLog).child({ component: 'xds-auth' });
  const certs = opts.clientCertificates ?? true;

  const decide = (call: AuthCall, id: string, method: Method, code: string, result: AuthResult): AuthResult => {
    const nodeId = clip(id);
    identityMetrics.decisions.inc({ method, result: result.ok ? 'ok' : 'rejected', reason: result.ok ? 'ok' : code });
    if (result.ok) log.debug({ method, identity: result.identity, node: nodeId, peer: call.getPeer() }, 'proxy authenticated');
    else log.warn({ method, reason: code, detail: result.reason, node: nodeId, peer: call.getPeer() }, 'proxy authentication refused');
    return result;
  };

  return async (call, node) => {
    const headers = call.metadata.get('authorization');
    if (headers.length > 1) return decide(call, node.id, 'token', 'malformed_authorization', { ok: false, reason: 'more than one authorization header' });
    if (headers.length === 1) {
      const m = typeof headers[0] === 'string' ? BEARER.exec(headers[0]) : null;
      if (!m) return decide(call, node.id, 'token', 'malformed_authorization', { ok: false, reason: 'authorization must be "Bearer <token>"' });
      if (opts.tokens === undefined)
        return decide(call, node.id, 'token', 'tokens_not_accepted', {
          ok: false,
          reason: 'bearer tokens are not accepted by this server; use a client certificate',
        });
      const r = await opts.tokens.verify(m[1]!);
      if (!r.ok) return decide(call, node.id, 'token', r.code, { ok: false, reason: r.reason });
      const scope = {
        namespace: r.token.namespace,
        serviceAccount: r.token.serviceAccount,
        ...(r.podLabels ? { labels: r.podLabels } : {}),
        ...(r.podEgress ? { egress: r.podEgress } : {}),
      };
      return decide(call, node.id, 'token', 'ok', { ok: true, identity: r.token.identity, scope });
    }
    const peer = certs ? call.getAuthContext().sslPeerCertificate : undefined;
    if (peer?.raw !== undefined) {
      const r = identityFromCertificate(new Uint8Array(peer.raw), opts.trustDomain);
      if (!r.ok) return decide(call, node.id, 'certificate', 'certificate_invalid', { ok: false, reason: r.reason });
      const parsed = parseSpiffeId(r.identity);
      if (!parsed.ok) return decide(call, node.id, 'certificate', 'certificate_invalid', { ok: false, reason: parsed.reason });
      const scope = { namespace: parsed.identity.namespace, serviceAccount: parsed.identity.serviceAccount };
      return decide(call, node.id, 'certificate', 'ok', { ok: true, identity: r.identity, scope });
    }
    const want = [opts.tokens ? 'a ServiceAccount token (authorization: Bearer)' : '', certs ? 'a client certificate from the mesh CA' : '']
      .filter(Boolean)
      .join(' or ');
    return decide(call, node.id, 'none', 'no_credential', { ok: false, reason: `no credential: present ${want}` });
  };
}
