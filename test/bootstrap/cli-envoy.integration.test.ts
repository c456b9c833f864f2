// What `weft bootstrap` prints, the real Envoy accepts (`envoy --mode validate`): plain
// flags with Delta xDS, ports and labels, and a TLS xDS cluster with a client certificate
// issued from a CA directory. The flags' meaning is checked in cli.test.ts and
// test/sds/cli.test.ts without Envoy.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { caFromDir } from '../../src/identity/ca-dir.ts';
import { runBootstrapAsync } from '../../src/runtime/cli/bootstrap.ts';
import { validateBootstrap } from '../support/envoy.ts';
import { EXPLICIT_PORTS_AND_LABELS, NODE_FLAGS } from './cli-flags.ts';

const base = NODE_FLAGS;
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function printed(argv: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await runBootstrapAsync(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  expect({ code, err }).toEqual({ code: 0, err: '' });
  return out;
}

describe('weft bootstrap output in the real Envoy', () => {
  it('accepts the plaintext bootstrap with Delta xDS, explicit ports and labels', async () => {
    const yaml = await printed([...base, '--xds-address', '127.0.0.1:15010', ...EXPLICIT_PORTS_AND_LABELS]);
    const v = await validateBootstrap(yaml);
    expect(v.code, v.output).toBe(0);
  });

  it('accepts the TLS bootstrap with a client certificate issued from --ca-dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-ca-'));
    dirs.push(dir);
    const ca = await caFromDir(dir, { trustDomain: 'cluster.local', create: true });
    if (!ca.ok) throw new Error(ca.error);
    const yaml = await printed([...base, '--xds-address', 'localhost:15012', '--ca-dir', dir, '--service-account', 'api']);
    const v = await validateBootstrap(yaml);
    expect(v.code, v.output).toBe(0);
  });
});
