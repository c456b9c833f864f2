// `npm run bench -- ca [--seconds S] [--quick]`: certificates issued per second, by the CA Weft uses
// (pkijs encoding + node:crypto keys and signatures) and by node-forge for comparison.
// "issue" = new key pair + certificate (what SDS serves a proxy); "sign" = certificate for a
// key we already have (a CSR-style flow), which isolates the certificate library itself.
// --quick (the smoke test) runs every case for a moment with one warm-up: same lines, rough figures.
import { parseArgs } from 'node:util';
import forge from 'node-forge';
import { createRootCa, loadCa, type CertificateAuthority } from '../src/ca/authority.ts';
import { generateKeyPair, type KeyAlgorithm } from '../src/ca/keys.ts';

interface Row {
  library: string;
  key: string;
  mode: 'issue' | 'sign';
  perSecond: number | string;
}

interface Timing {
  readonly seconds: number;
  readonly warmup: number;
}

async function timed(t: Timing, once: () => Promise<unknown> | unknown): Promise<number> {
  for (let w = 0; w < t.warmup; w++) await once(); // warm the JIT before timing
  const end = performance.now() + t.seconds * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() < end || n < 3) {
    await once();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function weftCa(alg: KeyAlgorithm): Promise<CertificateAuthority> {
  const r = loadCa(await createRootCa({ keyAlgorithm: alg }), { trustDomain: 'cluster.local' });
  if (!r.ok) throw new Error('bench: CA failed to load');
  return r.ca;
}

async function weftRows(alg: KeyAlgorithm, t: Timing): Promise<Row[]> {
  const ca = await weftCa(alg);
  const leaf = await generateKeyPair(alg);
  const req = { namespace: 'bench', serviceAccount: 'default', keyAlgorithm: alg };
  const issue = await timed(t, () => ca.issueSvid(req));
  const sign = await timed(t, () => ca.issueSvid({ ...req, publicKey: leaf.publicKey }));
  const key = alg === 'rsa-2048' ? 'RSA-2048' : 'ECDSA P-256';
  return [
    { library: 'pkijs + node:crypto (weft)', key, mode: 'issue', perSecond: issue },
    { library: 'pkijs + node:crypto (weft)', key, mode: 'sign', perSecond: sign },
  ];
}

function forgeCert(caKey: forge.pki.rsa.PrivateKey, publicKey: forge.pki.PublicKey, serial: number): string {
  const c = forge.pki.createCertificate();
  c.publicKey = publicKey;
  c.serialNumber = (0x10000 + serial).toString(16);
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 86_400_000);
  c.setIssuer([{ name: 'commonName', value: 'bench root' }]);
  c.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: 'spiffe://cluster.local/ns/bench/sa/default' }] },
  ]);
  c.sign(caKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(c);
}

async function forgeRows(t: Timing): Promise<Row[]> {
  const ca = forge.pki.rsa.generateKeyPair(2048);
  const leaf = forge.pki.rsa.generateKeyPair(2048);
  let serial = 0;
  const issue = await timed(t, () => {
    const kp = forge.pki.rsa.generateKeyPair(2048);
    forgeCert(ca.privateKey, kp.publicKey, serial++);
    forge.pki.privateKeyToPem(kp.privateKey);
  });
  const sign = await timed(t, () => forgeCert(ca.privateKey, leaf.publicKey, serial++));
  const rows: Row[] = [
    { library: 'node-forge', key: 'RSA-2048', mode: 'issue', perSecond: issue },
    { library: 'node-forge', key: 'RSA-2048', mode: 'sign', perSecond: sign },
  ];
  for (const mode of ['issue', 'sign'] as const) rows.push({ library: 'node-forge', key: 'ECDSA P-256', mode, perSecond: 'n/a: node-forge has no ECDSA' });
  return rows;
}

export async function runCaBench(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { seconds: { type: 'string' }, quick: { type: 'boolean', default: false } } });
  const seconds = values.seconds !== undefined ? Number(values.seconds) : values.quick ? 0.05 : 2;
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);
  const t: Timing = { seconds, warmup: values.quick ? 1 : 20 };
  console.log(
    `certificates per second (X.509-SVID, 24 h, signed by a root of the same key type; ${seconds}s per case${values.quick ? ', quick: rough figures' : ''})`,
  );
  const rows = [...(await weftRows('ecdsa-p256', t)), ...(await weftRows('rsa-2048', t)), ...(await forgeRows(t))];
  console.log(['library'.padEnd(28), 'key'.padEnd(12), 'mode'.padEnd(6), 'certs/s'].join(' '));
  for (const r of rows) {
    const v = typeof r.perSecond === 'number' ? r.perSecond.toFixed(0) : r.perSecond;
    console.log([r.library.padEnd(28), r.key.padEnd(12), r.mode.padEnd(6), v].join(' '));
  }
  console.log('issue = fresh key pair + certificate (what SDS hands a proxy); sign = certificate for an existing key.');
}
