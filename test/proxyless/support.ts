// Proxyless gRPC test support: a private copy of examples/proxyless on this test's greeter
// ports, the example client run as a child process (grpc-js-xds reads its bootstrap once
// per process, so each client is its own node), and the server's /debug/proxies view.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { DEMO_GREETER_PORTS } from '../../examples/proxyless/greeter.ts';
import { parseClientLine, type CallProgress, type CallSummary } from '../../examples/proxyless/output.ts';
import type { ProxyDebug } from '../../xds/server/debug.ts';

const exampleMesh = fileURLToPath(new URL('../../examples/proxyless/mesh.yaml', import.meta.url));
const exampleSlices = fileURLToPath(new URL('../../examples/proxyless/standalone/endpointslices.yaml', import.meta.url));
const clientScript = fileURLToPath(new URL('../../examples/proxyless/client.ts', import.meta.url));

const dirs = new Set<string>();
const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([...dirs].map((d) => rm(d, { recursive: true, force: true })));
});

export interface ProxylessMesh {
  readonly dir: string;
  read(): Promise<string>;
  write(text: string): Promise<void>;
}

/** examples/proxyless/mesh.yaml and its standalone EndpointSlices in a temp dir, greeter-v1/v2 endpoints on the given ports. */
export async function proxylessMesh(ports: { v1: number; v2: number }): Promise<ProxylessMesh> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-proxyless-'));
  dirs.add(dir);
  const slices = (await readFile(exampleSlices, 'utf8'))
    .replace(new RegExp(`\\b${DEMO_GREETER_PORTS['greeter-v1']}\\b`, 'g'), String(ports.v1))
    .replace(new RegExp(`\\b${DEMO_GREETER_PORTS['greeter-v2']}\\b`, 'g'), String(ports.v2));
  await writeFile(join(dir, 'endpointslices.yaml'), slices);
  const file = join(dir, 'mesh.yaml');
  await writeFile(file, await readFile(exampleMesh, 'utf8'));
  return { dir, read: () => readFile(file, 'utf8'), write: (t) => writeFile(file, t) };
}

export interface ClientRun {
  readonly summary: Promise<CallSummary>;
  /** Called for every progress line, in order. */
  onProgress(listener: (p: CallProgress) => void): void;
  /** Output that was not a client line (errors, traces), for failure messages. */
  stderr(): string;
}

export function runProxylessClient(opts: { xdsAddress: string; nodeId: string; args?: string[] }): ClientRun {
  const child = spawn(process.execPath, [clientScript, '--xds-address', opts.xdsAddress, '--node-id', opts.nodeId, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GRPC_XDS_BOOTSTRAP: '', GRPC_XDS_BOOTSTRAP_CONFIG: '' },
  });
  children.add(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-16384)));
  const listeners: ((p: CallProgress) => void)[] = [];
  let summary: CallSummary | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = parseClientLine(line);
    if (parsed?.type === 'progress') for (const l of listeners) l(parsed);
    else if (parsed?.type === 'summary') summary = parsed;
  });
  const done = new Promise<CallSummary>((resolve, reject) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      if (summary !== undefined) resolve(summary);
      else reject(new Error(`proxyless client exited (${code ?? signal}) without a summary:\n${err}`));
    });
  });
  return { summary: done, onProgress: (l) => listeners.push(l), stderr: () => err };
}

export async function proxiesOf(monitoringUrl: string): Promise<ProxyDebug[]> {
  const res = await fetch(`${monitoringUrl}/debug/proxies`);
  if (!res.ok) throw new Error(`/debug/proxies: HTTP ${res.status}`);
  return (await res.json()) as ProxyDebug[];
}
