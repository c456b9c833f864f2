// The images as built without Docker (scripts/images/build.sh → OCI tars), run under runc
// the way a kubelet would run them — no cluster needed:
//   weft        image config from images/weft/image.json (non-root), `weft --help`, and
//               `weft serve` on examples/mesh answering on its monitoring port and serving xDS;
//   weft-proxy  Envoy as uid 1337 taking that xDS config, and the same image as the webhook's
//               init container (root, NET_ADMIN/NET_RAW only, read-only root) applying the
//               capture rules in a network namespace of this test's own.
// Runs only as root with mmdebstrap, runc and ip; elsewhere it is skipped with the reason.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../scripts/images/definition.ts';
import { captureCommands } from '../../src/capture/rules.ts';
import { injectPod } from '../../webhook/inject.ts';
import { freePorts } from '../support/free-port.ts';
import { weftBootstrap } from '../support/weft-bootstrap.ts';
import { testContext } from '../webhook/fixtures.ts';
import {
  buildImages,
  fileExists,
  imageRunSpec,
  imagesUnavailable,
  repoRoot,
  runContainer,
  runToExit,
  unpackImage,
  type Container,
  type Unpacked,
} from './support.ts';

const skipReason = imagesUnavailable();
if (skipReason) console.log(`test/images/images.integration.test.ts skipped: ${skipReason}`);

const mib = (b: number) => (b / 1048576).toFixed(1);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// Containers start in well under a second; the margin is for a busy 2-core machine.
const RUN_TIMEOUT = 90_000;

describe.skipIf(skipReason !== undefined)('images built without Docker, run under runc', () => {
  let tmp = '';
  let bundles = '';
  let weft: Unpacked;
  let proxy: Unpacked;
  const containers: Container[] = [];
  const netnses: string[] = [];

  beforeAll(() => {
    const t0 = Date.now();
    const built = buildImages(['weft', 'weft-proxy']);
    for (const b of built) console.log(`image ${b.ref}: ${mib(b.compressed)} MiB compressed, ${mib(b.unpacked)} MiB unpacked (${b.tar})`);
    console.log(`images built or found in the cache in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    tmp = mkdtempSync(join(tmpdir(), 'weft-images-'));
    bundles = join(tmp, 'bundles');
    const tarOf = (name: string) => built.find((b) => b.name === name)?.tar ?? '';
    weft = unpackImage(tarOf('weft'), join(tmp, 'weft'));
    proxy = unpackImage(tarOf('weft-proxy'), join(tmp, 'weft-proxy'));
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.all(containers.map((c) => c.stop()));
    for (const ns of netnses) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('weft: the config the definition states, a non-root user, minimal contents', () => {
    const def = loadImage('weft');
    expect(weft.refName).toBe(def.ref);
    expect(def.ref).toMatch(/^ghcr\.io\/weft-mesh\/weft:\d+\.\d+\.\d+$/);
    expect(weft.config.User).toBe('65532:65532');
    expect(weft.config.Entrypoint).toEqual([
      '/usr/local/bin/node',
      '--max-semi-space-size=8',
      '--import=/app/bin/stripped-hook.js',
      '/app/src/runtime/cli/weft.ts',
    ]);
    expect(weft.config.Cmd).toEqual(['controller']);
    expect(weft.config.WorkingDir).toBe('/app');
    expect(weft.config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production', expect.stringMatching(/^PATH=.*\/usr\/local\/bin/)]));
    expect(weft.config.Labels['org.opencontainers.image.version']).toBe(def.version);
    for (const absent of [
      'usr/bin/gcc',
      'usr/bin/cc',
      'usr/lib/x86_64-linux-gnu/libperl.so.5.36',
      'usr/bin/npm',
      'app/node_modules/node',
      'app/node_modules/vitest',
      'app/xds/gen/envoy/config/listener/v3/listener_pb.d.ts',
    ]) {
      expect(fileExists(weft.rootfs, absent), absent).toBe(false);
    }
    expect(
      execFileSync('find', [join(weft.rootfs, 'var/lib/apt/lists'), join(weft.rootfs, 'usr/share/man'), '-type', 'f', '!', '-name', 'lock'], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('');
    expect(fileExists(weft.rootfs, 'app/xds/gen/envoy/config/listener/v3/listener_pb.js')).toBe(true);
  });

  it(
    'weft: `weft --help` runs as 65532 on a read-only root with Node 24',
    async () => {
      const help = await runToExit(bundles, weft.rootfs, imageRunSpec(weft.config, ['--help']));
      expect(help.output).toContain('usage: weft <command>');
      expect(help.code).toBe(0);
      // `weft` on PATH too (a symlink to the entry script), as `kubectl exec … -- weft` would use it.
      const onPath = await runToExit(bundles, weft.rootfs, { ...imageRunSpec(weft.config), args: ['weft', 'controller', '--help'] });
      expect(onPath.output).toContain('--leader-elect');
      expect(onPath.code).toBe(0);
      const id = await runToExit(bundles, weft.rootfs, { ...imageRunSpec(weft.config), args: ['/usr/bin/id', '-u'] });
      expect(id.output.trim()).toBe('65532');
      const node = await runToExit(bundles, weft.rootfs, { ...imageRunSpec(weft.config), args: ['/usr/local/bin/node', '--version'] });
      expect(node.output.trim()).toMatch(/^v24\./);
    },
    RUN_TIMEOUT,
  );

  it(
    'weft serve on examples/mesh answers on its monitoring port, and the proxy image takes its config over xDS as uid 1337',
    async () => {
      const serve = runContainer(bundles, weft.rootfs, {
        ...imageRunSpec(weft.config, ['serve', '--config-dir', '/config', '--xds-address', '127.0.0.1:0', '--monitoring-address', '127.0.0.1:0']),
        binds: [{ source: join(repoRoot, 'examples/mesh'), destination: '/config' }],
      });
      containers.push(serve);
      const ports = await until('weft serve ready line', 30_000, async () => {
        const m = /"event":"ready".*?"xdsPort":(\d+).*?"monitoringPort":(\d+)/.exec(serve.output());
        return m ? { xds: Number(m[1]), monitoring: Number(m[2]) } : undefined;
      }).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${serve.output()}`);
      });
      const healthz = await fetch(`http://127.0.0.1:${ports.monitoring}/healthz`);
      expect(healthz.status).toBe(200);
      const ready = await until('/readyz 200', 15_000, async () =>
        (await fetch(`http://127.0.0.1:${ports.monitoring}/readyz`)).status === 200 ? true : undefined,
      );
      expect(ready).toBe(true);

      const [admin, outbound, inbound] = (await freePorts(3)) as [number, number, number];
      const bootstrap = await weftBootstrap([
        '--node-id',
        'image-test',
        '--namespace',
        'shop',
        '--service',
        'checkout',
        '--xds-address',
        `127.0.0.1:${ports.xds}`,
        '--admin-port',
        String(admin),
        '--outbound-port',
        String(outbound),
        '--inbound-port',
        String(inbound),
      ]);
      const etc = join(tmp, 'envoy-etc');
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'bootstrap.yaml'), bootstrap, { mode: 0o644 });
      const envoy = runContainer(bundles, proxy.rootfs, {
        ...imageRunSpec(proxy.config, ['-c', '/etc/weft/bootstrap.yaml', '--disable-hot-restart', '--concurrency', '1', '-l', 'info']),
        binds: [{ source: etc, destination: '/etc/weft' }],
      });
      containers.push(envoy);
      const stats = await until('Envoy connected to xDS with listeners and clusters', 30_000, async () => {
        const text = await (
          await fetch(
            `http://127.0.0.1:${admin}/stats?filter=^(control_plane.connected_state|listener_manager.lds.update_success|cluster_manager.cds.update_success)$`,
          )
        ).text();
        const get = (k: string) => Number(new RegExp(`^${k.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
        const s = {
          connected: get('control_plane.connected_state'),
          lds: get('listener_manager.lds.update_success'),
          cds: get('cluster_manager.cds.update_success'),
        };
        return s.connected === 1 && s.lds > 0 && s.cds > 0 ? s : undefined;
      }).catch((e: unknown) => {
        throw new Error(`${String(e)}\nenvoy:\n${envoy.output()}\nweft:\n${serve.output()}`);
      });
      expect(stats.connected).toBe(1);
      const info = (await (await fetch(`http://127.0.0.1:${admin}/server_info`)).json()) as { version: string; state: string };
      expect(info.version).toContain('/1.40.0/');
      expect(info.state).toBe('LIVE');

      // Both run as PID 1 of their container: SIGTERM (what the kubelet sends) must end them
      // cleanly and promptly, with nothing in the image to forward signals.
      for (const c of [envoy, serve]) {
        const t0 = Date.now();
        await c.stop();
        expect(await c.exited, c.output()).toBe(0);
        expect(Date.now() - t0).toBeLessThan(5000);
      }
    },
    RUN_TIMEOUT,
  );

  it(
    'weft-proxy: the config the definition states; Envoy at the tests version as uid 1337 by default',
    async () => {
      const def = loadImage('weft-proxy');
      expect(proxy.refName).toBe(def.ref);
      expect(proxy.config.User).toBe('1337:1337');
      expect(proxy.config.Entrypoint).toEqual(['/usr/local/bin/envoy']);
      expect(fileExists(proxy.rootfs, 'usr/lib/x86_64-linux-gnu/libperl.so.5.36')).toBe(false);
      const version = await runToExit(bundles, proxy.rootfs, imageRunSpec(proxy.config));
      expect(version.code).toBe(0);
      expect(version.output).toMatch(/version: [0-9a-f]+\/1\.40\.0\//);
    },
    RUN_TIMEOUT,
  );

  it(
    'weft-proxy as the injected init container applies the capture rules in a network namespace (iptables-nft)',
    async () => {
      const injected = injectPod({ metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'x' }] } }, 'shop', testContext());
      if (!('pod' in injected)) throw new Error('expected an injected pod');
      const init = injected.pod.spec.initContainers?.find((c) => c.name === 'weft-init') as
        | { image: string; command: string[]; args: string[]; securityContext: { runAsUser: number; runAsGroup: number; capabilities: { add: string[] } } }
        | undefined;
      if (!init) throw new Error('no weft-init container');
      expect(init.image).toBe(loadImage('weft-proxy').ref);

      const ns = `weft-img-${process.pid}`;
      execFileSync('ip', ['netns', 'add', ns]);
      netnses.push(ns);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const inNs = { netns: `/var/run/netns/${ns}`, env: proxy.config.Env, cwd: '/' };
      const sc = init.securityContext;
      const applied = await runToExit(bundles, proxy.rootfs, {
        ...inNs,
        args: [...init.command, ...init.args],
        uid: sc.runAsUser,
        gid: sc.runAsGroup,
        capabilities: sc.capabilities.add,
      });
      expect(applied.output).toBe('');
      expect(applied.code).toBe(0);

      const save = await runToExit(bundles, proxy.rootfs, {
        ...inNs,
        args: ['iptables-save', '-t', 'nat'],
        uid: 0,
        gid: 0,
        capabilities: ['NET_ADMIN', 'NET_RAW'],
      });
      expect(save.code).toBe(0);
      const rules = save.output.split('\n').filter((l) => l.startsWith('-A '));
      const expected = captureCommands({ excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: ['169.254.169.254/32'], ipv6: false }).filter(
        (c) => c.includes('-A'),
      );
      expect(rules).toHaveLength(expected.length);
      expect(rules).toEqual(
        expect.arrayContaining([
          '-A PREROUTING -p tcp -j WEFT_INBOUND',
          '-A OUTPUT -p tcp -j WEFT_OUTPUT',
          '-A WEFT_OUTPUT -m owner --uid-owner 1337 -j RETURN',
          '-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
          '-A WEFT_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
        ]),
      );
      const version = await runToExit(bundles, proxy.rootfs, { ...inNs, args: ['iptables', '-V'], uid: 0, gid: 0 });
      expect(version.output).toContain('nf_tables');

      // The proxy role (uid 1337, no capabilities) cannot touch the rules.
      const flush = await runToExit(bundles, proxy.rootfs, {
        ...inNs,
        ...imageRunSpec(proxy.config),
        netns: inNs.netns,
        args: ['iptables', '-t', 'nat', '-F'],
      });
      expect(flush.code).not.toBe(0);
    },
    RUN_TIMEOUT,
  );
});
