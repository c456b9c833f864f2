// The one flag parser all three `weft` commands share (src/runtime/cli/flags.ts): --help is
// generated from each command's table and lists every flag; every problem names its flag and
// the reason, all at once; defaults, the chart's environment variables and Kubernetes-style
// switches behave the same in every command.
import { describe, expect, it } from 'vitest';
import { bootstrapCommand } from '../../src/runtime/cli/bootstrap-flags.ts';
import { controllerCommand } from '../../src/runtime/cli/controller-flags.ts';
import { helpText, parseFlags, type Command, type FlagTable } from '../../src/runtime/cli/flags.ts';
import { serveCommand } from '../../src/runtime/cli/serve-flags.ts';

const commands: readonly Command<FlagTable>[] = [serveCommand, controllerCommand, bootstrapCommand];
const flagsIn = (text: string) => new Set(text.match(/--[a-z][-a-z]*/g) ?? []);

function errors<T extends FlagTable>(cmd: Command<T>, argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const r = parseFlags(cmd, argv, env);
  return r.kind === 'error' ? r.errors : [];
}

function values<T extends FlagTable>(cmd: Command<T>, argv: string[], env: NodeJS.ProcessEnv = {}) {
  const r = parseFlags(cmd, argv, env);
  if (r.kind !== 'ok') throw new Error(`expected flags to parse: ${JSON.stringify(r)}`);
  return r.values;
}

describe('weft flags', () => {
  it.each(commands.map((c) => [c.name, c] as const))('weft %s --help lists every flag of its table, with its default and env', (_n, cmd) => {
    expect(parseFlags(cmd, ['--namespace', 'x', '--help'])).toEqual({ kind: 'help' });
    const help = helpText(cmd);
    expect(help).toMatch(new RegExp(`^usage: weft ${cmd.name} `));
    const listed = flagsIn(help);
    for (const name of Object.keys(cmd.flags)) expect(listed, name).toContain(`--${name}`);
    for (const [name, spec] of Object.entries(cmd.flags)) {
      const line = help.slice(help.indexOf(`--${name} `) >= 0 ? help.indexOf(`--${name} `) : help.indexOf(`--${name}\n`));
      if (spec.env) expect(line.slice(0, 400), name).toContain(`env ${spec.env}`);
      if (spec.default !== undefined) expect(line.slice(0, 400), name).toContain(`default ${spec.default}`);
    }
  });

  it('names the flag and the reason for every problem, all at once', () => {
    expect(errors(controllerCommand, ['--lease-duration', 'soon', '--namespace', 'Bad_NS', '--leader-elect=maybe', '--discovery-selector', '!a=b'])).toEqual([
      '--namespace: must be a lowercase RFC 1123 label (a-z, 0-9, -)',
      '--leader-elect: must be true or false, got "maybe"',
      '--lease-duration: "soon" is not a duration such as 500ms, 15s or 5m',
      '--discovery-selector: invalid label selector term "!a=b"',
    ]);
    expect(errors(serveCommand, ['--config-dir', '/nonexistent', '--monitoring-address', 'localhost'])).toEqual([
      '--config-dir: /nonexistent: not a directory',
      '--monitoring-address: expected HOST:PORT or [IPv6]:PORT, got "localhost"',
    ]);
    expect(errors(serveCommand, [])).toEqual(['--config-dir is required']);
    expect(errors(serveCommand, ['--config-dir', '.', '--bogus'])[0]).toMatch(/Unknown option '--bogus'/);
    expect(errors(serveCommand, ['--config-dir', '.', 'extra'])[0]).toMatch(/Unexpected argument 'extra'/);
  });

  it('runs the rules between flags only once each flag is good', () => {
    expect(errors(controllerCommand, ['--xds-plaintext', '--workload-cert-ttl', '2m'])).toEqual([
      '--workload-cert-ttl needs TLS xDS (SDS is not served with --xds-plaintext)',
    ]);
    expect(errors(controllerCommand, ['--xds-plaintext', '--workload-cert-ttl', '2s'])).toEqual(['--workload-cert-ttl: "2s" is not a duration of at least 1m']);
    expect(errors(serveCommand, ['--config-dir', '.', '--xds-san', 'mesh.example'])).toEqual([
      '--workload-cert-ttl, --ca-rotation-soak and --xds-san need --ca-dir',
    ]);
    expect(errors(controllerCommand, ['--egress-default', 'shop'])).toEqual([
      '--egress-default: "shop" is not <namespace>/<service> (use "./shop" for a service of the proxy\'s own namespace)',
    ]);
    expect(values(controllerCommand, ['--egress-default', './*, weft-system/*'])['egress-default']).toEqual([
      { namespace: '.', service: '*' },
      { namespace: 'weft-system', service: '*' },
    ]);
  });

  it('fills defaults, reads the environment when the flag is absent, and names the variable when its value is bad', () => {
    const d = values(controllerCommand, []);
    expect(d).toMatchObject({
      namespace: 'weft-system',
      'leader-elect': true,
      'ca-create': true,
      'xds-plaintext': false,
      'lease-duration': 15_000,
      'trust-domain': 'cluster.local',
      'webhook-address': '0.0.0.0:9443',
    });
    expect(d['xds-address']).toBeUndefined();
    const env = { WEFT_TRUST_DOMAIN: 'example.org', WEFT_WEBHOOK_ADDRESS: 'off', WEFT_CA_SECRET: '' };
    expect(values(controllerCommand, [], env)).toMatchObject({ 'trust-domain': 'example.org', 'webhook-address': 'off', 'ca-secret': 'weft-root-ca' });
    expect(values(controllerCommand, ['--trust-domain', 'flag.org'], env)['trust-domain']).toBe('flag.org');
    expect(errors(controllerCommand, [], { WEFT_TRUST_DOMAIN: 'Not Valid' })).toEqual([
      '--trust-domain (from WEFT_TRUST_DOMAIN): must be lowercase letters, digits, ".", "-" or "_" (got "Not Valid")',
    ]);
  });

  it('takes switches as --x, --x=true and --x=false, and repeatable flags as arrays', () => {
    expect(values(controllerCommand, ['--leader-elect'])['leader-elect']).toBe(true);
    expect(values(controllerCommand, ['--leader-elect=false', '--ca-create=false'])).toMatchObject({ 'leader-elect': false, 'ca-create': false });
    expect(values(controllerCommand, ['--xds-plaintext'])['xds-plaintext']).toBe(true);
    const base = ['--node-id', 'vm-1', '--namespace', 'shop', '--service', 'web', '--xds-address', '127.0.0.1:15010'];
    expect(values(bootstrapCommand, base)).toMatchObject({ delta: false, label: [] });
    expect(values(bootstrapCommand, [...base, '--delta', '--label', 'a=1', '--label', 'b='])).toMatchObject({ delta: true, label: ['a=1', 'b='] });
    expect(values(bootstrapCommand, [...base, '--delta=false'])).toMatchObject({ delta: false });
    expect(values(serveCommand, ['--config-dir', '.', '--ca-dir', 'ca', '--xds-san', 'a', '--xds-san', '10.0.0.1'])['xds-san']).toEqual(['a', '10.0.0.1']);
  });
});
