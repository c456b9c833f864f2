// Finding 5 of issue 13: one team's TrafficSplit with a header regex that Weft accepted and
// Envoy rejects (RE2 program size over re2.max_program_size.error_level, 100) made the route
// configuration it landed in NACKed, so another namespace's 90/10 → 0/100 change never
// applied. Here payments adds such a split on the same port as shop's checkout (so, before
// route configurations are cut per service, they share one), then shop shifts checkout to
// 0/100: a real Envoy must follow, never reject an update, and the bad split must carry
// Accepted=False naming the program size. With WEFT_RE2_ADDON pointing nowhere (the
// JavaScript approximation, as before) the route stays at 90/10 and Envoy counts rejections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectedUpdates, waitForRoute, weightPercent } from '../support/envoy-routes.ts';
import { CHECKOUT_HOST, startMeshWithEnvoy, type MeshEnvoy } from '../support/mesh-envoy.ts';
import { re2Available } from '../../src/model/re2-native.ts';

// 64 hex digits (a SHA-256 session id): valid for JavaScript and RE2, 130 RE2 instructions.
const BAD_REGEX = '^[0-9a-f]{64}$';

const PAYMENTS = `
apiVersion: v1
kind: Service
metadata: {name: billing, namespace: payments}
spec:
  selector: {app: billing}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: billing-v2, namespace: payments}
spec:
  selector: {app: billing, version: v2}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: TrafficSplit
metadata: {name: billing-sessions, namespace: payments}
spec:
  service: billing
  matches:
    - headers: [{name: x-session, type: RegularExpression, value: '${BAD_REGEX}'}]
  backends:
    - {service: billing, weight: 50}
    - {service: billing-v2, weight: 50}
`;

interface Status {
  kind: string;
  key: string;
  conditions: { type: string; status: string; reason: string; message: string }[];
}

describe('attack: one namespace’s regex Envoy rejects does not freeze another’s routing', () => {
  let h: MeshEnvoy;
  beforeAll(async () => {
    if (!process.env.WEFT_RE2_ADDON) expect(re2Available(), 'the RE2 addon (scripts/install-re2.sh) must be built').toBe(true);
    h = await startMeshWithEnvoy({ delta: true });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('applies shop’s 90/10 → 0/100 while payments holds a split Envoy would reject', { timeout: 60_000 }, async () => {
    await waitForRoute(h.envoy, CHECKOUT_HOST, (v) => Math.abs(weightPercent(v, 'checkout-v2.') - 10) < 0.01);
    await h.mesh.write('payments.yaml', PAYMENTS);
    // Let the bad split reach the server (and, were it translated, Envoy) before shop's edit.
    const statuses = await waitForStatus(h.weft.monitoringUrl, 'TrafficSplit', 'payments/billing-sessions');
    const accepted = statuses.conditions.find((c) => c.type === 'Accepted');
    console.log(`[blast-radius] payments/billing-sessions: ${JSON.stringify(accepted)}`);
    expect(accepted).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(accepted?.message).toMatch(/RE2 program size is 130, over Envoy's limit of 100/);

    const text = await h.mesh.read('trafficsplit.yaml');
    await h.mesh.write('trafficsplit.yaml', text.replace(/weight:\s*90\b/, 'weight: 0').replace(/weight:\s*10\b/, 'weight: 100'));
    const { waitedMs } = await waitForRoute(h.envoy, CHECKOUT_HOST, (v) => weightPercent(v, 'checkout-v2.') === 100, 15_000);
    console.log(`[blast-radius] shop/checkout 0/100 reached Envoy in ${Math.round(waitedMs)} ms`);

    const rejected = await rejectedUpdates(h.envoy);
    expect(Object.fromEntries([...rejected].filter(([, v]) => v !== 0))).toEqual({});
  });
});

async function waitForStatus(monitoringUrl: string, kind: string, key: string): Promise<Status> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${monitoringUrl}/debug/config`);
    const body = (await res.json()) as { statuses?: Status[] };
    const s = body.statuses?.find((x) => x.kind === kind && x.key === key);
    if (s) return s;
    if (Date.now() > deadline) throw new Error(`no status for ${kind} ${key}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
