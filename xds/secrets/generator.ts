// Joins per-identity SDS secrets to translation: `(model, proxy) => ({ ...translate(model,
// proxy), secrets: secretsFor(proxy.identity) })`. The identity is part of the proxy group key
// (xds/resources/proxy.ts), so a group's snapshot — and every proxy in it — only ever holds that one
// identity's key. Renewals regenerate just that identity's groups, from the same model. The
// generator is chosen once, where the control plane is built (src/runtime/control-plane.ts).
import type { Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { Generator, SnapshotCache } from '../snapshot/cache.ts';
import { compareStrings } from '../../src/base/order.ts';

export type SecretsFor = (identity: string | undefined) => readonly Secret[];

/** `generate` plus the identity's secrets (they replace any translated secret of the same name). */
export function withSecrets(generate: Generator, secretsFor: SecretsFor): Generator {
  return (model, proxy) => {
    const set = generate(model, proxy);
    const own = secretsFor(proxy.identity);
    if (own.length === 0) return set;
    const names = new Set(own.map((s) => s.name));
    const secrets = [...set.secrets.filter((s) => !names.has(s.name)), ...own].sort((a, b) => compareStrings(a.name, b.name));
    return { ...set, secrets };
  };
}

export interface SecretsProvider {
  secretsFor: SecretsFor;
  onRotate(listener: (identity: string) => void): () => void;
}

/** Regenerates an identity's groups in `cache` whenever its certificate is issued or renewed. Returns the unsubscribe. */
export function refreshOnRotate(cache: Pick<SnapshotCache, 'refresh'>, secrets: Pick<SecretsProvider, 'onRotate'>): () => void {
  return secrets.onRotate((identity) => cache.refresh((p) => p.identity === identity));
}
