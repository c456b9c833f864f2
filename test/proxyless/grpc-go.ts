// The grpc-go proxyless client (scripts/grpc-go-client), built on first use by
// scripts/install-grpc-go-client.sh (WEFT_GRPC_GO_CLIENT names another build).
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireTier } from '../support/tier.ts';

const installScript = fileURLToPath(new URL('../../scripts/install-grpc-go-client.sh', import.meta.url));
let binary: string | undefined;

export interface GoSummary {
  readonly calls: number;
  readonly ok: number;
  readonly byBackend: Record<string, number>;
  /** Failed calls by gRPC status code name (e.g. Unavailable). */
  readonly byCode: Record<string, number>;
  readonly elapsedMs: number;
}

export function grpcGoClientBinary(): string {
  requireTier('the grpc-go client', 'integration');
  if (binary) return binary;
  if (process.env.WEFT_GRPC_GO_CLIENT) return (binary = process.env.WEFT_GRPC_GO_CLIENT);
  const out = execFileSync('bash', [installScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 });
  return (binary = out.trim().split('\n').at(-1) ?? '');
}

/** Runs the client with `bootstrap` (the xDS bootstrap JSON) and returns its summary line. */
export async function grpcGoClient(opts: { bootstrap: string; calls: number; concurrency?: number; target?: string }): Promise<GoSummary> {
  const args = ['-calls', String(opts.calls), '-concurrency', String(opts.concurrency ?? 4), '-target', opts.target ?? 'xds:///greeter.shop:50051'];
  const child = spawn(grpcGoClientBinary(), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GRPC_XDS_BOOTSTRAP: '', GRPC_XDS_BOOTSTRAP_CONFIG: opts.bootstrap },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8192)));
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(kill);
  const line = out.split('\n').find((l) => l.startsWith('{"type":"summary"'));
  if (!line) throw new Error(`grpc-go client exited ${code} without a summary:\n${err}`);
  return JSON.parse(line) as GoSummary;
}
