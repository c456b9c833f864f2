// mesh.weft.dev/v1alpha1 PeerAuth: Istio PeerAuthentication semantics. No selector means
// the whole namespace; in the control-plane namespace, the whole mesh.
import { z } from 'zod';
import { MTLS_MODES, PORT_KEY, PORT_MAX, PORT_MIN, PeerAuthBounds as B } from './bounds.ts';
import { labelKeyProblem, labelValue } from './common.ts';
import { check, weftMap, weftObject, weftResource } from './weft-meta.ts';

const mtls = weftObject({ mode: z.enum(MTLS_MODES, { error: `must be one of ${MTLS_MODES.join(', ')}` }).default('UNSET') });

const matchLabels = weftMap(labelValue, 'must be a map of label key to label value').superRefine((labels, ctx) => {
  const keys = Object.keys(labels);
  check(ctx, keys.length < 1 || keys.length > B.matchLabelsMax, [], `must contain between 1 and ${B.matchLabelsMax} labels`);
  // CEL: self.all(k, k.matches(r'LABEL_KEY') && <prefix ≤ 253, name ≤ 63>)
  for (const k of keys) {
    const problem = labelKeyProblem(k);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: problem });
  }
});

const spec = weftObject({
  selector: weftObject({ matchLabels }).optional(),
  mtls: mtls.optional(),
  portLevelMtls: weftMap(mtls, 'must be a map of port number to {mode}')
    .superRefine((ports, ctx) => {
      const keys = Object.keys(ports);
      // CEL: size(self) <= 64 && self.all(k, k.matches('^[1-9][0-9]{0,4}$') && int(k) <= 65535)
      check(ctx, keys.length > B.portLevelMtlsMax, [], `must contain at most ${B.portLevelMtlsMax} ports`);
      for (const k of keys) {
        check(ctx, !PORT_KEY.test(k) || Number(k) > PORT_MAX, [k], `key must be a port number between ${PORT_MIN} and ${PORT_MAX} (no leading zero)`);
      }
    })
    .optional(),
}).superRefine((s, ctx) => {
  // CEL: !has(self.portLevelMtls) || has(self.selector)
  check(
    ctx,
    s.portLevelMtls !== undefined && s.selector === undefined,
    ['portLevelMtls'],
    'requires a selector (port-level modes apply to selected workloads only)',
  );
});

export const PeerAuthSchema = weftResource('PeerAuth', spec.default({}));

export type PeerAuthObject = z.output<typeof PeerAuthSchema>;
