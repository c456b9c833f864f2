// mesh.weft.dev/v1alpha1 PeerAuth: Istio PeerAuthentication semantics. No selector means
// the whole namespace; in the control-plane namespace, the whole mesh.
import { z } from 'zod';
import { MTLS_MODES, PORT_MAX, PORT_MIN, PeerAuthBounds as B } from './bounds.ts';
import { check, weftMap, weftObject, weftResource } from './weft-meta.ts';

const mtls = weftObject({ mode: z.enum(MTLS_MODES, { error: `must be one of ${MTLS_MODES.join(', ')}` }).default('UNSET') });

const PORT_KEY = /^[0-9]{1,5}$/;

const matchLabels = weftMap(z.string({ error: 'must be a string' }), 'must be a map of string to string').superRefine((labels, ctx) => {
  const n = Object.keys(labels).length;
  check(ctx, n < 1 || n > B.matchLabelsMax, [], `must contain between 1 and ${B.matchLabelsMax} labels`);
});

const spec = weftObject({
  selector: weftObject({ matchLabels }).optional(),
  mtls: mtls.optional(),
  portLevelMtls: weftMap(mtls, 'must be a map of port number to {mode}')
    .superRefine((ports, ctx) => {
      const keys = Object.keys(ports);
      // CEL: size(self) <= 64 && self.all(k, k.matches('^[0-9]{1,5}$') && int(k) >= 1 && int(k) <= 65535)
      check(ctx, keys.length > B.portLevelMtlsMax, [], `must contain at most ${B.portLevelMtlsMax} ports`);
      for (const k of keys) {
        const n = Number(k);
        check(ctx, !PORT_KEY.test(k) || n < PORT_MIN || n > PORT_MAX, [k], `key must be a port number between ${PORT_MIN} and ${PORT_MAX}`);
      }
    })
    .optional(),
}).superRefine((s, ctx) => {
  // CEL: !has(self.portLevelMtls) || has(self.selector)
  check(ctx, s.portLevelMtls !== undefined && s.selector === undefined, ['portLevelMtls'], 'requires a selector (port-level modes apply to selected workloads only)');
});

export const PeerAuthSchema = weftResource('PeerAuth', spec.default({}));

export type PeerAuthObject = z.output<typeof PeerAuthSchema>;
