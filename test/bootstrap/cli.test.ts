// `weft bootstrap`: good flags print the bootstrap they ask for (cli-envoy.integration.test.ts
// has the real Envoy accept it); bad ones name the flag and exit 2. One case runs the real
// `weft` binary to check the exit code reaches the shell.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runBootstrap } from '../../src/runtime/cli/bootstrap.ts';
import { EXPLICIT_PORTS_AND_LABELS, NODE_FLAGS } from './cli-flags.ts';

const good = [...NODE_FLAGS, '--xds-address', '127.0.0.1:15010'];

function run(argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runBootstrap(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('weft bootstrap', () => {
  it('prints a bootstrap with the flags in the node metadata and the ADS api type', () => {
    const r = run([...good, ...EXPLICIT_PORTS_AND_LABELS]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const doc = parseYaml(r.out) as { node: { metadata: Record<string, unknown> }; dynamic_resources: { ads_config: { api_type: string } } };
    expect(doc.node.metadata).toMatchObject({
      WEFT_OUTBOUND_PORT: '16001',
      WEFT_INBOUND_PORT: '16006',
      WEFT_CAPTURE: 'false',
      WEFT_LABELS: { app: 'web', tier: '' },
    });
    expect(doc.dynamic_resources.ads_config.api_type).toBe('DELTA_GRPC');
  });

  it('--egress puts the scope in WEFT_EGRESS as given; without it there is none', () => {
    const scoped = parseYaml(run([...good, '--egress', 'shop/*, ./billing']).out) as { node: { metadata: Record<string, unknown> } };
    expect(scoped.node.metadata.WEFT_EGRESS).toBe('shop/*, ./billing');
    const plain = parseYaml(run(good).out) as { node: { metadata: Record<string, unknown> } };
    expect(plain.node.metadata).not.toHaveProperty('WEFT_EGRESS');
  });

  it.each<[string, string[], RegExp]>([
    ['missing --xds-address', good.slice(0, 6), /--xds-address is required/],
    ['missing --node-id', good.slice(2), /--node-id is required/],
    ['bad --xds-address', [...good.slice(0, 7), 'localhost'], /--xds-address: expected HOST:PORT/],
    ['port out of range', [...good.slice(0, 7), '127.0.0.1:99999'], /--xds-address: port 99999/],
    ['bad --namespace', ['--namespace', 'Shop_1', ...good.slice(0, 2), ...good.slice(4)], /--namespace: must be a lowercase RFC 1123 label/],
    ['bad --outbound-port', [...good, '--outbound-port', 'http'], /--outbound-port: must be a number/],
    ['bad --inbound-port', [...good, '--inbound-port', '0'], /--inbound-port: must be in 1-65535/],
    ['--inbound-port on the default outbound port', [...good, '--inbound-port', '15001'], /--inbound-port: must differ from the outbound port/],
    [
      '--inbound-port equal to --outbound-port',
      [...good, '--outbound-port', '16001', '--inbound-port', '16001'],
      /--inbound-port: must differ from the outbound port/,
    ],
    ['bad --admin-port', [...good, '--admin-port', '65536'], /--admin-port: must be in 0-65535/],
    ['bad --label', [...good, '--label', 'novalue'], /--label: must be KEY=VALUE/],
    ['bad --egress', [...good, '--egress', 'billing'], /--egress: "billing" is not <namespace>\/<service>/],
    ['unknown flag', [...good, '--outbound', '1'], /Unknown option '--outbound'/],
    ['flag without value', [...good, '--service'], /'--service <value>' argument missing/],
  ])('rejects %s, naming the flag', (_name, argv, message) => {
    const r = run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err).toContain('usage: weft bootstrap');
  });

  it('reports every bad flag at once', () => {
    const r = run(['--namespace', 'BAD']);
    expect(r.err).toMatch(/--node-id is required[\s\S]*--namespace:[\s\S]*--service is required[\s\S]*--xds-address is required/);
  });

  it('exits 2 from the weft binary without a stack trace', async () => {
    const weft = fileURLToPath(new URL('../../src/runtime/cli/weft.ts', import.meta.url));
    const err = await promisify(execFile)(process.execPath, [weft, 'bootstrap', '--node-id', 'x']).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/--namespace is required/);
    expect(err?.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
