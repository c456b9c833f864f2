// The weft-cni executable: the runtime runs it (through the sh wrapper the DaemonSet writes
// into the CNI bin dir) with CNI_* variables and the network configuration on stdin. Node's
// own modules only, so the node binary plus this folder and mesh-ports.ts is all a node needs
// (HOST_FILES in src/runtime/cni/host-files.ts; a unit test keeps the list complete).
//
// Rules go in with `nsenter --net=<CNI_NETNS> iptables-nft-restore --noflush`: the node's own
// nsenter and iptables (nf_tables backend first, as kube-proxy's nftables mode and the init
// container use; iptables-restore otherwise), one transaction per family. One JSON line per
// invocation goes to the configuration's `logFile` (when set) with the time the rules took
// and the plugin's whole run, Node's start included.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, statSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { handleCni, type CniHost } from './cni-plugin.ts';
import { CaptureChains, type CaptureConfig } from './rules.ts';

const SEARCH = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
const LOG_MAX_BYTES = 4 << 20;

function which(names: readonly string[], first: readonly string[]): string | undefined {
  const dirs = [...first, ...SEARCH, ...(process.env.PATH ?? '').split(':').filter(Boolean)];
  for (const n of names) for (const d of dirs) if (existsSync(join(d, n))) return join(d, n);
  return undefined;
}

function exec(argv: readonly string[], input: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd = '', ...args] = argv;
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} exited ${code ?? signal}: ${err.trim().slice(0, 1000)}`));
    });
    // A child that exits without reading all of stdin (a failing restore, iptables-save) closes
    // the pipe: its exit status is the answer, not our EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function tools(family: 4 | 6, first: readonly string[]): { nsenter: string; restore: string; save: string } {
  const nsenter = which(['nsenter'], first);
  const p = family === 4 ? 'iptables' : 'ip6tables';
  const restore = which([`${p}-nft-restore`, `${p}-restore`], first);
  const save = which([`${p}-nft-save`, `${p}-save`], first);
  if (!nsenter || !restore || !save)
    throw new Error(`the node lacks ${!nsenter ? 'nsenter' : `${p}-restore / ${p}-save`} (searched ${SEARCH.join(', ')} and PATH)`);
  return { nsenter, restore, save };
}

/** The node's tools, looked up in the configuration's `binDirs` first (nodes with iptables elsewhere), then the usual places. */
const hostWith = (first: readonly string[]): CniHost => ({
  async apply(netns, restores) {
    for (const { family, input } of restores) {
      const t = tools(family, first);
      await exec([t.nsenter, `--net=${netns}`, '--', t.restore, '--noflush'], input);
    }
  },
  async check(netns, cfg: CaptureConfig) {
    for (const family of cfg.ipv6 ? ([4, 6] as const) : ([4] as const)) {
      const t = tools(family, first);
      const saved = await exec([t.nsenter, `--net=${netns}`, '--', t.save, '-t', 'nat'], '');
      for (const chain of Object.values(CaptureChains)) if (!saved.includes(`:${chain} `)) return `IPv${family} chain ${chain} is missing`;
      if (!saved.includes(`-A OUTPUT -p tcp -j ${CaptureChains.output}`)) return `IPv${family} OUTPUT does not jump to ${CaptureChains.output}`;
    }
    return undefined;
  },
  now: () => performance.now(),
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The plugin's own settings in its configuration entry: `logFile`, `binDirs` (absolute paths only). */
function settings(stdin: string): { logFile?: string; binDirs: string[] } {
  let conf: { logFile?: unknown; binDirs?: unknown } = {};
  try {
    conf = JSON.parse(stdin) as typeof conf;
  } catch {
    // handleCni reports the bad input.
  }
  const abs = (v: unknown): v is string => typeof v === 'string' && v.startsWith('/');
  return { ...(abs(conf.logFile) ? { logFile: conf.logFile } : {}), binDirs: Array.isArray(conf.binDirs) ? conf.binDirs.filter(abs) : [] };
}

function logLine(file: string | undefined, record: object): void {
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    if (existsSync(file) && statSync(file).size > LOG_MAX_BYTES) truncateSync(file, 0);
    appendFileSync(file, `${JSON.stringify(record)}\n`);
  } catch {
    // Logging never decides whether a Pod starts.
  }
}

const stdin = await readStdin();
const conf = settings(stdin);
const outcome = await handleCni({ env: process.env, stdin }, hostWith(conf.binDirs));
if (outcome.log) logLine(conf.logFile, { time: new Date().toISOString(), ...outcome.log, totalMs: Math.round(performance.now() * 100) / 100 });
process.stdout.write(outcome.stdout);
process.exitCode = outcome.exitCode;
