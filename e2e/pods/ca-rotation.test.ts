// Root CA rotation on real Pods: Weft installed by its chart (confined release, 2 replicas,
// --ca-rotation-soak 2s), an injected `echo` Pod behind Service echo:80 and an injected `loop`
// Pod calling it every 20 ms through both sidecars, the namespace STRICT, every upstream
// connection closed after 5 requests so mTLS handshakes keep happening during the rotation.
// The operator adds next.crt/next.key (a new root from the project's CA helpers) to the CA
// Secret; the test follows the phase recorded in its `weft.dev/ca-rotation` annotation until
// the leader moves the next material into tls.crt. Asserted: 0 failed requests, and in each
// sidecar's Envoy the SDS trust bundle (ROOTCA) holds the new root only, the workload
// certificate verifies against it, and /certs shows the old root in no TLS context that
// carries the workload certificate (only the bootstrap's xDS cluster may keep it: the bundle
// the webhook injected at admission, docs/ca-and-identity.md).
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa } from '../../src/ca/authority.ts';
import { splitCertificates } from '../../src/ca/pem.ts';
import { eventually } from '../support/kube.ts';
import { napply, nk, nkJson, nodeSuitesEnabled } from '../node/support.ts';
import { installWeft, webhookInjects, weftImages, type WeftRelease } from './support/weft.ts';
import { countRequests, deployEcho, settledCount, startLoop } from './support/traffic-loop.ts';

interface SecretJson {
  metadata: { annotations?: Record<string, string> };
  data: Record<string, string>;
}
interface CertDetails {
  serial_number: string;
  subject_alt_names?: { uri?: string }[];
}
interface CertsDump {
  certificates: { ca_cert?: CertDetails[]; cert_chain?: CertDetails[] }[];
}
interface SecretsDump {
  configs: {
    name: string;
    secret: { validation_context?: { trusted_ca?: { inline_bytes?: string } }; tls_certificate?: { certificate_chain?: { inline_bytes?: string } } };
  }[];
}

const pem = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');
const certs = (text: string) => splitCertificates(text).map((b) => new X509Certificate(b));
const serial = (s: string) => s.toLowerCase().replace(/^0+/, '');
/** Sum of the `listener.*.ssl.handshake` counters in an Envoy /stats text. */
const handshakes = (stats: string) =>
  stats
    .split('\n')
    .filter((l) => /^listener\..*\.ssl\.handshake: /.test(l))
    .reduce((n, l) => n + Number(l.split(': ')[1]), 0);

describe.skipIf(!nodeSuitesEnabled)('root CA rotation on real Pods', () => {
  let rel: WeftRelease;
  let mesh: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    const image = (await weftImages()).weft;
    rel = await installWeft({ controllerArgs: ['--ca-rotation-soak=2s'] });
    mesh = await rel.meshNamespace('rot');
    await napply(
      [
        { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'PeerAuth', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } },
        {
          apiVersion: 'mesh.weft.dev/v1alpha1',
          kind: 'BackendPolicy',
          metadata: { name: 'echo' },
          spec: { targetRef: { kind: 'Service', name: 'echo' }, connectionPool: { maxRequestsPerConnection: 5 } },
        },
      ],
      mesh.name,
    );
    await deployEcho(mesh.name, image, 1);
    await startLoop(mesh.name, image);
  }, 1_800_000);

  afterAll(async () => {
    await mesh?.remove();
    await rel?.uninstall();
  }, 200_000);

  const secret = () => nkJson<SecretJson>(['-n', rel.namespace, 'get', 'secret', 'weft-root-ca']);
  /** The roots (fingerprints) in this release's injection webhook caBundle. */
  const webhookRoots = async () => {
    type Hooks = { items: { webhooks?: { clientConfig: { caBundle?: string; service?: { namespace?: string } } }[] }[] };
    const hooks = (await nkJson<Hooks>(['get', 'mutatingwebhookconfigurations'])).items.flatMap((c) => c.webhooks ?? []);
    const mine = hooks.find((w) => w.clientConfig.service?.namespace === rel.namespace);
    return certs(pem(mine?.clientConfig.caBundle)).map((c) => c.fingerprint256);
  };
  /** GET on a sidecar's Envoy admin (127.0.0.1:15000) from its Pod's app container (same network). */
  const admin = async (pod: string, path: string, container = 'app') =>
    (
      await nk([
        '-n',
        mesh.name,
        'exec',
        pod,
        '-c',
        container,
        '--',
        'node',
        '-e',
        `fetch('http://127.0.0.1:15000${path}').then(r=>r.text()).then(t=>process.stdout.write(t))`,
      ])
    ).stdout;

  it('rotates under continuous mTLS traffic with 0 failed requests; the old root leaves both sidecars', async () => {
    const echoPod = (await nkJson<{ items: { metadata: { name: string } }[] }>(['-n', mesh.name, 'get', 'pods', '-l', 'app=echo'])).items[0]?.metadata.name;
    if (!echoPod) throw new Error('no echo Pod');
    const sidecars: [string, string][] = [
      ['loop', 'app'],
      [echoPod, 'echo'],
    ];
    const before = await secret();
    const oldRoot = certs(pem(before.data['tls.crt']))[0] as X509Certificate;
    // Both sidecars serve mTLS with a workload certificate from the old root before the rotation.
    for (const [pod, c] of sidecars) expect(await admin(pod, '/certs', c)).toContain('spiffe://');

    const echoStats = () => admin(echoPod, '/stats?filter=ssl\\.handshake$', 'echo');
    const handshakesBefore = handshakes(await echoStats());
    const next = await createRootCa({ commonName: 'weft root CA 2 (pods e2e)' });
    const newRoot = certs(next.certPem)[0] as X509Certificate;
    const started = Date.now();
    await nk([
      '-n',
      rel.namespace,
      'patch',
      'secret',
      'weft-root-ca',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ data: { 'next.crt': Buffer.from(next.certPem).toString('base64'), 'next.key': Buffer.from(next.keyPem).toString('base64') } }),
    ]);
    // Phases as recorded by the leader; `done` removes the annotation and moves next.* into tls.*.
    const seen: { phase: string; at: number }[] = [];
    let maxWebhookRoots = 0;
    let finished = false;
    while (Date.now() - started < 150_000) {
      const s = await secret();
      const note = s.metadata.annotations?.['weft.dev/ca-rotation'];
      const phase = note ? (JSON.parse(note) as { phase: string }).phase : pem(s.data['tls.crt']) === next.certPem ? 'done' : 'pending';
      if (seen.at(-1)?.phase !== phase) seen.push({ phase, at: Date.now() - started });
      if (phase === 'sign') maxWebhookRoots = Math.max(maxWebhookRoots, (await webhookRoots()).length);
      if (phase === 'done' && s.data['next.crt'] === undefined) {
        finished = true;
        break;
      }
      await sleep(250);
    }
    const end = Date.now();
    const reports = await nk(['-n', rel.namespace, 'get', 'secret', 'weft-root-ca', '-o', 'jsonpath={.metadata.annotations}'], { allowFailure: true });
    expect(finished, `phases ${JSON.stringify(seen)}; annotations ${reports.stdout}`).toBe(true);
    const phaseMs = seen.map((p, i) => `${p.phase} ${((seen[i + 1]?.at ?? end - started) - p.at) / 1000}s`);
    await sleep(1_500);
    const counts = await settledCount(mesh.name, started - 1);
    const mtlsHandshakes = handshakes(await echoStats()) - handshakesBefore;
    console.log(
      `[pods ca-rotation] rotation ${(end - started) / 1000} s (phases seen from the Secret, 250 ms polling: ${phaseMs.join(' → ')}); ` +
        `requests during ${counts.ok + counts.fail} over ${counts.seconds} s, failed ${counts.fail}${counts.lastErrors.length ? ` (${counts.lastErrors.join(', ')})` : ''}; ` +
        `mTLS handshakes at the server sidecar ${mtlsHandshakes}; webhook caBundle roots during sign ${maxWebhookRoots}`,
    );
    expect(mtlsHandshakes, 'new mTLS connections during the rotation').toBeGreaterThan(10);
    expect(maxWebhookRoots, 'the webhook caBundle holds old + new roots during the rotation').toBe(2);
    expect(seen.map((p) => p.phase)).toEqual(expect.arrayContaining(['trust', 'sign', 'retire', 'done']));
    expect(counts.fail, counts.lastErrors.join('\n')).toBe(0);
    expect(counts.ok).toBeGreaterThan(50);

    for (const [pod, c] of sidecars) {
      const dump = JSON.parse(await admin(pod, '/config_dump?resource=dynamic_active_secrets', c)) as SecretsDump;
      const byName = new Map(dump.configs.map((x) => [x.name, x.secret]));
      const roots = certs(pem(byName.get('ROOTCA')?.validation_context?.trusted_ca?.inline_bytes));
      const leaf = certs(pem(byName.get('default')?.tls_certificate?.certificate_chain?.inline_bytes))[0];
      expect(
        roots.map((r) => r.fingerprint256),
        `${pod}: SDS ROOTCA`,
      ).toEqual([newRoot.fingerprint256]);
      expect(leaf?.verify(newRoot.publicKey), `${pod}: workload certificate signed by the new root`).toBe(true);
      expect(leaf?.checkIssued(newRoot), `${pod}: workload certificate issued by the new root`).toBe(true);

      // /certs: every TLS context holding the workload certificate trusts the new root, not the old.
      const ctxs = (JSON.parse(await admin(pod, '/certs', c)) as CertsDump).certificates;
      const workload = ctxs.filter((x) => (x.cert_chain ?? []).some((d) => d.subject_alt_names?.some((s) => s.uri?.startsWith('spiffe://'))));
      const cas = workload.map((x) => (x.ca_cert ?? []).map((d) => serial(d.serial_number)));
      const oldAnywhere = ctxs.filter((x) => (x.ca_cert ?? []).some((d) => serial(d.serial_number) === serial(oldRoot.serialNumber))).length;
      console.log(
        `[pods ca-rotation] ${pod}: /certs ${ctxs.length} TLS contexts, ${workload.length} with the workload certificate; old root in ${oldAnywhere}`,
      );
      expect(workload.length, `${pod}: TLS contexts with the workload certificate`).toBeGreaterThan(0);
      for (const ca of cas) {
        expect(ca).toContain(serial(newRoot.serialNumber));
        expect(ca).not.toContain(serial(oldRoot.serialNumber));
      }
    }
    // The API server trusts the webhook's new serving certificate through the new caBundle alone.
    await eventually(webhookRoots, {
      until: (r) => r.length === 1 && r[0] === newRoot.fingerprint256,
      timeoutMs: 30_000,
      what: 'the caBundle holding the new root only',
    });
    await eventually(() => webhookInjects(mesh.name), { until: (ok) => ok, timeoutMs: 30_000, what: 'the webhook injecting after the rotation' });
    // Traffic still flows after the rotation (new handshakes, new certificates on both sides).
    const t = Date.now();
    await sleep(3_000);
    const afterCounts = await countRequests(mesh.name, t, Date.now());
    expect(afterCounts.fail).toBe(0);
  }, 240_000);
});
