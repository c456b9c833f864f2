// Runs Weft's built images without a cluster: builds them with scripts/images/build.sh
// (cached), unpacks an OCI image-layout tar the way a runtime does (index → manifest →
// config + layers), and runs containers with runc from a generated OCI runtime config
// (read-only root, the image's user, env and working directory unless overridden).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { requireTier } from '../support/tier.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the image suite cannot run here, or undefined when it can. */
export function imagesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mmdebstrap root mode, chroot, runc)';
  for (const bin of ['mmdebstrap', 'runc', 'ip']) {
    if (!onPath(bin)) return `${bin} is not installed (apt-get install mmdebstrap runc iproute2)`;
  }
  return undefined;
}

export interface BuiltImage {
  readonly name: string;
  readonly ref: string;
  readonly tar: string;
  readonly compressed: number;
  readonly unpacked: number;
}

/** scripts/images/build.sh for these images (a cache hit takes seconds; cold, a few minutes). */
export function buildImages(names: string[], env: NodeJS.ProcessEnv = process.env): BuiltImage[] {
  requireTier('Image builds (mmdebstrap, runc)', 'integration');
  const out = execFileSync('bash', ['scripts/images/build.sh', ...names, '--no-import'], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(\S+) (\S+) (\S+) compressed=(\d+) unpacked=(\d+)$/.exec(line);
      if (!m) throw new Error(`build.sh printed an unexpected line: ${line}`);
      return { name: m[1] as string, ref: m[2] as string, tar: m[3] as string, compressed: Number(m[4]), unpacked: Number(m[5]) };
    });
}

const Descriptor = z.object({ mediaType: z.string(), digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), size: z.number() });
const Index = z.object({ manifests: z.array(Descriptor.extend({ annotations: z.record(z.string(), z.string()).optional() })).length(1) });
const Manifest = z.object({ config: Descriptor, layers: z.array(Descriptor).min(1) });
export const ImageConfigSchema = z.object({
  User: z.string().optional(),
  Env: z.array(z.string()).default([]),
  Entrypoint: z.array(z.string()).default([]),
  Cmd: z.array(z.string()).default([]),
  WorkingDir: z.string().default('/'),
  Labels: z.record(z.string(), z.string()).default({}),
});
export type ImageConfig = z.output<typeof ImageConfigSchema>;

export interface Unpacked {
  readonly rootfs: string;
  readonly config: ImageConfig;
  /** index.json's io.containerd.image.name (the name `ctr images import` gives it). */
  readonly refName: string | undefined;
}

/** Unpacks an OCI layout tar into dir/layout and its layers, in order, into dir/rootfs. */
export function unpackImage(tar: string, dir: string): Unpacked {
  const layout = join(dir, 'layout');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(layout, { recursive: true });
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  execFileSync('tar', ['-xf', tar, '-C', layout]);
  const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const index = Index.parse(JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')));
  const manifestDesc = index.manifests[0] as z.output<typeof Index>['manifests'][number];
  const manifest = Manifest.parse(JSON.parse(readFileSync(blob(manifestDesc.digest), 'utf8')));
  const config = z.object({ config: ImageConfigSchema }).parse(JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8'))).config;
  for (const layer of manifest.layers) execFileSync('tar', ['-xzf', blob(layer.digest), '-C', rootfs, '--numeric-owner']);
  return { rootfs, config, refName: manifestDesc.annotations?.['io.containerd.image.name'] };
}

export interface RunSpec {
  readonly args: string[];
  readonly uid: number;
  readonly gid: number;
  readonly env: string[];
  readonly cwd: string;
  /** Capabilities kept (all sets); [] = none, as with `drop: [ALL]`. */
  readonly capabilities?: string[];
  /** Path of a network namespace to join (e.g. /var/run/netns/NAME); default: the host's. */
  readonly netns?: string;
  readonly binds?: { source: string; destination: string }[];
}

/** The image's own process spec: entrypoint + (args ?? cmd), its user, env and workdir. */
export function imageRunSpec(config: ImageConfig, args?: string[]): RunSpec {
  const [uid, gid] = (config.User ?? '0:0').split(':').map(Number);
  return { args: [...config.Entrypoint, ...(args ?? config.Cmd)], uid: uid ?? 0, gid: gid ?? 0, env: config.Env, cwd: config.WorkingDir };
}

function runtimeConfig(rootfs: string, spec: RunSpec): unknown {
  const caps = (spec.capabilities ?? []).map((c) => `CAP_${c}`);
  const namespaces: { type: string; path?: string }[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (spec.netns) namespaces.push({ type: 'network', path: spec.netns });
  const mounts = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    // Kubernetes gives the controller an emptyDir here (charts/weft deployment.yaml).
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
    ...(spec.binds ?? []).map((b) => ({ destination: b.destination, type: 'bind', source: b.source, options: ['rbind', 'ro'] })),
  ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: spec.uid, gid: spec.gid },
      args: spec.args,
      env: spec.env,
      cwd: spec.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: 'weft-image-test',
    mounts,
    linux: {
      namespaces,
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface Container {
  readonly id: string;
  output(): string;
  /** Resolves to the exit code once the container's process ends. */
  readonly exited: Promise<number>;
  stop(): Promise<void>;
}

let seq = 0;

/** Starts a container from `rootfs` under runc; stop() (or the test's cleanup) removes it. */
export function runContainer(bundleDir: string, rootfs: string, spec: RunSpec): Container {
  const id = `weft-image-test-${process.pid}-${++seq}`;
  const bundle = join(bundleDir, id);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(runtimeConfig(rootfs, spec), null, 1));
  const child: ChildProcess = spawn('runc', ['run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-65536));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    id,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          execFileSync('runc', ['kill', id, 'TERM'], { stdio: 'ignore' });
        } catch {
          // already gone
        }
        if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) {
          execFileSync('runc', ['kill', id, 'KILL'], { stdio: 'ignore' });
          await exited;
        }
      }
      try {
        execFileSync('runc', ['delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // never created, or already deleted
      }
    },
  };
}

/** Runs a container to completion (bounded); resolves to its exit code and output. */
export async function runToExit(bundleDir: string, rootfs: string, spec: RunSpec, timeoutMs = 30_000): Promise<{ code: number; output: string }> {
  const c = runContainer(bundleDir, rootfs, spec);
  const code = await Promise.race([c.exited, sleep(timeoutMs).then(() => -1)]);
  await c.stop();
  if (code === -1) throw new Error(`container ${spec.args.join(' ')} did not exit in ${timeoutMs} ms:\n${c.output()}`);
  return { code, output: c.output() };
}

export function fileExists(rootfs: string, path: string): boolean {
  return existsSync(join(rootfs, path));
}
