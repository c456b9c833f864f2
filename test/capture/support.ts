// Pods as network namespaces for the capture-mode data path test: two netns joined by one
// veth pair (the pod network, 10.244.0.0/24, default route on it so the service CIDR is
// routable), each also linked to a bridge in the root namespace (10.250.N.0/24) where
// `weft serve --ca-dir` listens, so the sidecars reach TLS xDS. Inside each netns: the
// injection webhook's own capture script with real iptables, a real Envoy as uid 1337, apps.
// Everything made here is recorded and undone by cleanup(), in reverse order.
import { execFile as execFileCb, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, copyFile, link, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { PROXY_UID } from '../../src/base/mesh-ports.ts';
import { requireTier } from '../support/tier.ts';

const execFile = promisify(execFileCb);

/** Why the suite cannot run here, or undefined when it can (root, `ip netns`, iptables). */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return '`ip netns` is unavailable';
  }
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'iptables is not installed (scripts/setup.sh installs it)';
  }
  return undefined;
}

/** Runs a command to completion; throws with its stderr on failure. */
export async function run(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<string> {
  try {
    const { stdout } = await execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** argv run inside a netns, optionally as another uid (setpriv, so the kernel sees that uid). */
export function inNs(ns: string, argv: readonly string[], uid?: number): string[] {
  const as = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  return ['netns', 'exec', ns, ...as, ...argv];
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
  exited(): boolean;
}

export interface Pod {
  readonly ns: string;
  /** Address on the pod network. */
  readonly ip: string;
  /** Address on the link to the root namespace (where xDS is). */
  readonly linkIp: string;
}

export interface Topology {
  readonly tag: string;
  readonly a: Pod;
  readonly b: Pod;
  /** Root-namespace address of the bridge: bind the xDS server here. */
  readonly rootIp: string;
  /** A private directory (mode 0755) for files uid 1337 must read. */
  readonly dir: string;
  /** Starts a long-running process inside a netns; killed by cleanup(). */
  spawnIn(ns: string, name: string, argv: readonly string[], uid?: number): Proc;
  /** Something more to undo (runs before what was set up earlier). */
  defer(step: () => Promise<void>): void;
  cleanup(): Promise<void>;
}

async function stopProc(p: Proc): Promise<void> {
  if (p.exited()) return;
  const gone = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  if (!(await Promise.race([gone.then(() => true), sleep(3000).then(() => false)]))) {
    p.child.kill('SIGKILL');
    await gone;
  }
}

/**
 * Builds the namespaces and links. Names carry the pid, so parallel or leftover runs never
 * collide: netns weft-t-<pid>-a/-b, root bridge wt<pid>br, root-side veths wt<pid>a/-b.
 */
export async function createTopology(): Promise<Topology> {
  requireTier('Network namespaces', 'integration');
  const pid = process.pid;
  const tag = `weft-t-${pid}`;
  const net = `10.250.${pid % 250}`;
  const undo: Array<() => Promise<void>> = [];
  const procs = new Set<Proc>();
  const ip = (...args: string[]) => run('ip', args);
  const cleanup = async () => {
    await Promise.all([...procs].map((p) => stopProc(p).catch(() => {})));
    procs.clear();
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };

  try {
    const dir = await mkdtemp(join(tmpdir(), 'weft-capture-'));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    await chmod(dir, 0o755);

    const bridge = `wt${pid}br`.slice(0, 15);
    await ip('link', 'add', bridge, 'type', 'bridge');
    undo.push(() => ip('link', 'del', bridge).then(() => {}));
    await ip('addr', 'add', `${net}.1/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');

    const pods: Pod[] = [];
    for (const [i, suffix] of (['a', 'b'] as const).entries()) {
      const ns = `${tag}-${suffix}`;
      await ip('netns', 'add', ns);
      undo.push(async () => {
        // Anything still inside (only processes this run started) goes first, or the netns lingers.
        const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean);
        for (const p of pids) {
          try {
            process.kill(Number(p), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await ip('netns', 'del', ns);
      });
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      const rootSide = `wt${pid}${suffix}`.slice(0, 15);
      await ip('link', 'add', rootSide, 'type', 'veth', 'peer', 'name', 'xds0', 'netns', ns);
      await ip('link', 'set', rootSide, 'master', bridge, 'up');
      await ip('-n', ns, 'addr', 'add', `${net}.${2 + i}/24`, 'dev', 'xds0');
      await ip('-n', ns, 'link', 'set', 'xds0', 'up');
      pods.push({ ns, ip: `10.244.0.${2 + i}`, linkIp: `${net}.${2 + i}` });
    }
    const [a, b] = pods as [Pod, Pod];
    // The pod network: one veth pair straight between the pods.
    await ip('link', 'add', 'eth0', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b.ns);
    for (const p of pods) {
      await ip('-n', p.ns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0');
      await ip('-n', p.ns, 'link', 'set', 'eth0', 'up');
      // Service IPs (10.96.0.0/16) must route somewhere for locally generated packets to reach OUTPUT.
      await ip('-n', p.ns, 'route', 'add', 'default', 'dev', 'eth0');
    }

    const spawnIn = (ns: string, name: string, argv: readonly string[], uid?: number): Proc => {
      const child = spawn('ip', inNs(ns, argv, uid), { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let done = false;
      const keep = (d: Buffer) => (out = (out + d.toString()).slice(-16_384));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      child.once('exit', () => (done = true));
      const p: Proc = { name, child, output: () => out, exited: () => done || child.exitCode !== null || child.signalCode !== null };
      procs.add(p);
      return p;
    };

    return { tag, a, b, rootIp: `${net}.1`, dir, spawnIn, defer: (s) => undo.push(s), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * A copy of the Envoy binary uid 1337 can execute (the cached install lives under /root,
 * which other uids cannot traverse): a hard link when on the same filesystem, else a copy.
 */
export async function envoyFor1337(topo: Topology, envoy: string): Promise<string> {
  const path = join(topo.dir, 'envoy');
  await link(envoy, path).catch(() => copyFile(envoy, path));
  await chmod(path, 0o755);
  return path;
}

export interface NsEnvoy {
  readonly proc: Proc;
  readonly ns: string;
  admin(path: string): Promise<string>;
  stats(filter: string): Promise<Map<string, number>>;
  logs(): Promise<string>;
}

/** Starts Envoy in `ns` as uid 1337 (its traffic bypasses capture) and waits until /ready is 200. */
export async function startNsEnvoy(topo: Topology, ns: string, envoyPath: string, bootstrapYaml: string, adminPort: number): Promise<NsEnvoy> {
  const dir = join(topo.dir, `envoy-${ns}`);
  await run('mkdir', ['-m', '0700', dir]);
  await chown(dir, PROXY_UID, PROXY_UID);
  const config = join(dir, 'bootstrap.yaml');
  const logPath = join(dir, 'envoy.log');
  await writeFile(config, bootstrapYaml, { mode: 0o600 });
  await chown(config, PROXY_UID, PROXY_UID);
  const argv = [envoyPath, '-c', config, '--disable-hot-restart', '--concurrency', '1', '--log-path', logPath, '-l', 'warning'];
  const proc = topo.spawnIn(ns, `envoy ${ns}`, argv, PROXY_UID);
  const logs = () => readFile(logPath, 'utf8').catch(() => '');
  const admin = (path: string) => run('ip', inNs(ns, ['curl', '-sS', '--fail', '--max-time', '5', `http://127.0.0.1:${adminPort}${path}`]));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exited()) throw new Error(`envoy in ${ns} exited:\n${proc.output()}\n${(await logs()).slice(-3000)}`);
    if (
      await admin('/ready').then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`envoy in ${ns} not ready in 30 s:\n${proc.output()}\n${(await logs()).slice(-3000)}`);
    await sleep(200);
  }
  return {
    proc,
    ns,
    admin,
    logs,
    async stats(filter) {
      const doc = JSON.parse(await admin(`/stats?format=json&filter=${encodeURIComponent(filter)}`)) as { stats?: Array<{ name?: string; value?: number }> };
      const out = new Map<string, number>();
      for (const s of doc.stats ?? []) if (s.name !== undefined && typeof s.value === 'number') out.set(s.name, s.value);
      return out;
    },
  };
}

export type CurlOutcome = { ok: true; status: number; backend: string } | { ok: false; error: string };

/** `curl -i URL` inside a netns (as `uid`, default root): status and x-backend header, or the failure. */
export async function curlIn(ns: string, url: string, uid?: number): Promise<CurlOutcome> {
  try {
    const out = await run('ip', inNs(ns, ['curl', '-sS', '-i', '--max-time', '5', url], uid));
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(out)?.[1] ?? 0);
    const backend = /^x-backend:\s*(\S+)/im.exec(out)?.[1] ?? '';
    return { ok: true, status, backend };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function sumStats(stats: ReadonlyMap<string, number>, re: RegExp): number {
  let n = 0;
  for (const [name, v] of stats) if (re.test(name)) n += v;
  return n;
}
