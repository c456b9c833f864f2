// The identity flags of `weft bootstrap` and `weft serve`: good ones render a TLS xDS cluster
// (test/bootstrap/cli-envoy.integration.test.ts has the real Envoy accept it); bad ones name
// the flag (exit 2); a missing CA directory is an operational error (exit 1) with a hint,
// from the real binary too.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runBootstrapAsync } from '../../src/runtime/cli/bootstrap.ts';
import { caFromDir } from '../../src/identity/ca-dir.ts';
import { weftBin } from '../support/weft-serve.ts';

const base = ['--node-id', 'vm-1', '--namespace', 'shop', '--service', 'web', '--xds-address', 'localhost:15012'];

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runBootstrapAsync(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

type Tls = {
  common_tls_context: {
    tls_certificates: { certificate_chain: Record<string, string>; private_key: Record<string, string> }[];
    validation_context: { trusted_ca: Record<string, string>; match_typed_subject_alt_names: unknown[] };
    alpn_protocols: string[];
  };
  sni?: string;
};
function xdsTls(yaml: string): Tls {
  const doc = parseYaml(yaml) as { static_resources: { clusters: { transport_socket: { typed_config: Tls } }[] } };
  return doc.static_resources.clusters[0]!.transport_socket.typed_config;
}

describe('weft bootstrap identity flags', () => {
  it('--ca-dir issues a client certificate for the identity and inlines it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-ca-'));
    const ca = await caFromDir(dir, { trustDomain: 'cluster.local', create: true });
    if (!ca.ok) throw new Error(ca.error);
    const inVms = base.map((a) => (a === 'shop' ? 'vms' : a));
    const r = await run([...inVms, '--ca-dir', dir, '--service-account', 'api', '--identity-namespace', 'vms', '--cert-ttl', '48h']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const tls = xdsTls(r.out);
    const chain = tls.common_tls_context.tls_certificates[0]!.certificate_chain.inline_string!;
    const leaf = new X509Certificate(chain);
    expect(leaf.subjectAltName).toBe('URI:spiffe://cluster.local/ns/vms/sa/api');
    expect(Date.parse(leaf.validTo) - Date.now()).toBeGreaterThan(47 * 3_600_000);
    expect(Date.parse(leaf.validTo) - Date.now()).toBeLessThan(49 * 3_600_000);
    expect(tls.common_tls_context.tls_certificates[0]!.private_key.inline_string).toMatch(/BEGIN PRIVATE KEY/);
    expect(tls.common_tls_context.validation_context.trusted_ca.inline_string).toBe(ca.ca.trustBundlePem);
    expect(tls.common_tls_context.validation_context.match_typed_subject_alt_names).toEqual([{ san_type: 'DNS', matcher: { exact: 'localhost' } }]);
    expect(tls.common_tls_context.alpn_protocols).toEqual(['h2']);
    expect(tls.sni).toBe('localhost');
  });

  it('--cert/--key/--ca reference the files by absolute path; an IP address is matched as an IP SAN', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-files-'));
    for (const f of ['c.pem', 'k.pem', 'ca.pem']) await writeFile(join(dir, f), 'x');
    const r = await run([
      '--node-id',
      'vm-1',
      '--namespace',
      'shop',
      '--service',
      'web',
      '--xds-address',
      '127.0.0.1:15012',
      '--cert',
      join(dir, 'c.pem'),
      '--key',
      join(dir, 'k.pem'),
      '--ca',
      join(dir, 'ca.pem'),
    ]);
    expect(r.code).toBe(0);
    const tls = xdsTls(r.out);
    expect(tls.common_tls_context.tls_certificates[0]).toEqual({
      certificate_chain: { filename: join(dir, 'c.pem') },
      private_key: { filename: join(dir, 'k.pem') },
    });
    expect(tls.common_tls_context.validation_context.match_typed_subject_alt_names).toEqual([{ san_type: 'IP_ADDRESS', matcher: { exact: '127.0.0.1' } }]);
    expect(tls.sni).toBeUndefined();
  });

  it.each<[string, string[], RegExp]>([
    ['--ca-dir with --cert', ['--ca-dir', '/tmp', '--cert', '/etc/hostname'], /--ca-dir: not together with --cert/],
    ['--service-account without --ca-dir', ['--service-account', 'api'], /--service-account: only with --ca-dir/],
    ['--cert alone', ['--cert', '/etc/hostname'], /--key is required with --cert[\s\S]*--ca is required/],
    ['a missing --key file', ['--cert', '/etc/hostname', '--key', '/nonexistent/k.pem', '--ca', '/etc/hostname'], /--key: \/nonexistent\/k.pem: no such file/],
    ['a bad --service-account', ['--ca-dir', '/tmp', '--service-account', 'Not_Valid'], /--service-account: must be a Kubernetes ServiceAccount name/],
    ['a bad --cert-ttl', ['--ca-dir', '/tmp', '--cert-ttl', '30s'], /--cert-ttl: "30s" is not a duration of at least 1m/],
    [
      'a --cert-ttl over the cap (issue 13: uncapped before)',
      ['--ca-dir', '/tmp', '--cert-ttl', '8760h'],
      /--cert-ttl: must be at most 720h \(30 days\): client certificates cannot be revoked/,
    ],
    ['a bad --trust-domain', ['--ca-dir', '/tmp', '--trust-domain', 'Bad Domain'], /--trust-domain: must be lowercase/],
  ])('rejects %s, naming the flag', async (_n, extra, message) => {
    const r = await run([...base, ...extra]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });

  it('exits 1 from the weft binary when the CA directory holds no CA, with a hint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-empty-'));
    const err = await promisify(execFile)(process.execPath, [weftBin, 'bootstrap', ...base, '--ca-dir', dir]).then(
      () => undefined,
      (e: { code?: number; stderr?: string; stdout?: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stdout).toBe('');
    expect(err?.stderr).toMatch(/no CA in .*weft serve --ca-dir/);
  });
});

describe('weft serve identity flags', () => {
  it.each<[string, string[], RegExp]>([
    ['--workload-cert-ttl without --ca-dir', ['--workload-cert-ttl', '2m'], /need --ca-dir/],
    ['a bad --workload-cert-ttl', ['--ca-dir', '/tmp/x', '--workload-cert-ttl', '5s'], /--workload-cert-ttl: "5s" is not a duration of at least 10s/],
    ['a bad --trust-domain', ['--ca-dir', '/tmp/x', '--trust-domain', 'UPPER'], /--trust-domain/],
  ])('exits 2 on %s', async (_n, extra, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-cfg-'));
    const err = await promisify(execFile)(process.execPath, [weftBin, 'serve', '--config-dir', dir, ...extra]).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(message);
  });
});
