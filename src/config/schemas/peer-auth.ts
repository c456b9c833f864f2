// mesh.weft.dev/v1alpha1 PeerAuth: Istio PeerAuthentication semantics. No selector means
// the whole namespace; in the control-plane namespace, the whole mesh.
import { z } from 'zod';
import { MTLS_MODES, PORT_MAX, PORT_MIN, PeerAuthBounds as B } from './bounds.ts';
import { stringMap } from './common.ts';
import { check, weftApiVersion, weftMetadata } from './weft-meta.ts';

const mtls = z.object(
  { mode: z.enum(MTLS_MODES, { error: `must be one of ${MTLS_MODES.join(', ')}` }).default('UNSET') },
  { error: 'must be an object' },
);

const PORT_KEY = /^[0-9]{1,5}$/;

const spec = z
  .object(
    {
      selector: z
        .object(
          {
            matchLabels: stringMap.refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= B.matchLabelsMax, {
              error: `must contain between 1 and ${B.matchLabelsMax} labels`,
            }),
          },
          { error: 'must be an object' },
        )
        .optional(),
      mtls: mtls.optional(),
      portLevelMtls: z
        .record(z.string(), mtls, { error: 'must be a map of port number to {mode}' })
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
    },
    { error: 'must be an object' },
  )
  .superRefine((s, ctx) => {
    // CEL: !has(self.portLevelMtls) || has(self.selector)
    check(ctx, s.portLevelMtls !== undefined && s.selector === undefined, ['portLevelMtls'], 'requires a selector (port-level modes apply to selected workloads only)');
  });

export const PeerAuthSchema = z.object({
  apiVersion: weftApiVersion,
  kind: z.literal('PeerAuth'),
  metadata: weftMetadata,
  spec: spec.default({}),
});

export type PeerAuthObject = z.output<typeof PeerAuthSchema>;
