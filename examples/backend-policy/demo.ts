#!/usr/bin/env node
// BackendPolicy, runnable on one machine: `node examples/backend-policy/demo.ts`.
// Four reviews backends on loopback (two in zone-a, two in zone-b, standalone/), `weft serve`
// on this directory, and a real Envoy in zone-a (`weft bootstrap --zone zone-a` does the same)
// used as an HTTP proxy. It prints which backend answered each x-user: every user sticks to one
// backend (RingHash on x-user), all in zone-a (zone failover); then it marks the zone-a
// endpoints unready, and the same users move to zone-b. Every process it starts is stopped on exit.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderBootstrap } from '../../xds/bootstrap/bootstrap.ts';
import { startBackend, type Backend } from '../backends/server.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const HOST = 'reviews.shop:8080';
const USERS = Number(process.env.DEMO_USERS ?? 8);
const PER_USER = Number(process.env.DEMO_REQUESTS_PER_USER ?? 10);
const DEMO_PORTS = ['18181', '18182', '18183', '18184'];
const NAMES = ['a1', 'a2', 'b1', 'b2'];

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const children: ChildProcess[] = [];
const backends: Backend[] = [];
let dir = '';
async function cleanup(): Promise<void> {
  for (const c of children.reverse()) c.kill('SIGTERM');
  await Promise.all(backends.map((b) => b.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function envoyBinary(): string {
  if (process.env.WEFT_ENVOY) return process.env.WEFT_ENVOY;
  const cached = join(process.env.WEFT_CACHE ?? join(homedir(), '.cache', 'weft'), 'bin', 'envoy');
  if (existsSync(cached)) return cached;
  return (
    execFileSync('bash', [join(root, 'scripts/install-envoy.sh')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1) ?? 'envoy'
  );
}

/** Starts `weft serve` on `configDir` and resolves with its xDS port once it is ready. */
function weftServe(configDir: string): Promise<number> {
  const args = [
    join(root, 'src/runtime/cli/weft.ts'),
    'serve',
    '--config-dir',
    configDir,
    '--xds-address',
    '127.0.0.1:0',
    '--monitoring-address',
    '127.0.0.1:0',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, WEFT_LOG_LEVEL: 'warn' } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"event":"ready"[^\n]*"xdsPort":(\d+)/.exec(out) ?? /"xdsPort":(\d+)[^\n]*"event":"ready"/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`weft serve exited ${code}: ${out.slice(-2000)}`)));
  });
}

/** One GET through Envoy; the backend's name (x-backend), or the status when not 200. */
function get(proxyPort: number, user: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: `http://${HOST}/`, headers: { host: HOST, 'x-user': user }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-backend']) : `status ${res.statusCode}`));
    });
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end();
  });
}

/** USERS × PER_USER requests; prints one line per user: the backends that answered it. */
async function round(proxyPort: number, title: string): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  for (let i = 0; i < USERS * PER_USER; i++) {
    const user = `user-${i % USERS}`;
    seen.set(user, (seen.get(user) ?? new Set()).add(await get(proxyPort, user)));
  }
  say(`\n${title}`);
  for (const [user, who] of seen) say(`  x-user ${user.padEnd(8)} → ${[...who].sort().join(', ')}`);
  const sticky = [...seen.values()].filter((s) => s.size === 1).length;
  say(`  ${sticky}/${USERS} users on exactly one backend; backends used: ${[...new Set([...seen.values()].flatMap((s) => [...s]))].sort().join(', ')}`);
  return seen;
}

async function main(): Promise<void> {
  for (const name of NAMES) backends.push(await startBackend({ name }));
  dir = await mkdtemp(join(tmpdir(), 'weft-backend-policy-'));
  let slices = await readFile(join(here, 'standalone/endpointslices.yaml'), 'utf8');
  DEMO_PORTS.forEach((p, i) => (slices = slices.replace(p, String(backends[i]?.port))));
  for (const f of ['services.yaml', 'backendpolicy.yaml']) await writeFile(join(dir, f), await readFile(join(here, f), 'utf8'));
  await writeFile(join(dir, 'endpointslices.yaml'), slices);

  const xdsPort = await weftServe(dir);
  const [outboundPort, adminPort] = [await freePort(), await freePort()];
  const bootstrap = renderBootstrap({ nodeId: 'demo-caller', namespace: 'shop', xdsAddress: `127.0.0.1:${xdsPort}`, outboundPort, adminPort, zone: 'zone-a' });
  children.push(spawn(envoyBinary(), ['--config-yaml', bootstrap.yaml, '--disable-hot-restart', '-l', 'error'], { stdio: 'inherit' }));
  for (let i = 0; !/^[ab][12]$/.test(await get(outboundPort, 'probe')); i++) {
    if (i > 300) throw new Error('Envoy did not route to reviews within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`weft serve on 127.0.0.1:${xdsPort}; Envoy (zone-a) proxying on 127.0.0.1:${outboundPort}, admin 127.0.0.1:${adminPort}`);
  await round(outboundPort, 'RingHash on x-user, zone failover, caller in zone-a, every endpoint ready:');

  await writeFile(join(dir, 'endpointslices.yaml'), slices.replace(/zone: zone-a, conditions: \{ready: true\}/g, 'zone: zone-a, conditions: {ready: false}'));
  for (let i = 0; !(await get(outboundPort, 'probe')).startsWith('b'); i++) {
    if (i > 300) throw new Error('traffic did not fail over to zone-b within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await round(outboundPort, 'the zone-a endpoints are now unready: the same users fail over to zone-b:');
}

main()
  .then(cleanup, async (e: unknown) => {
    console.error(e);
    await cleanup();
    process.exitCode = 1;
  })
  .then(() => process.exit());
