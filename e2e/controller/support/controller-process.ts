// `weft controller` as a real child process on free ports: started with a kubeconfig,
// found through its `ready` line, observed through its logs and /metrics, and stopped
// (or SIGKILLed) by the test. Every child is killed after the file, even on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const weftBin = fileURLToPath(new URL('../../../src/runtime/cli/weft.ts', import.meta.url));

export interface ControllerProcess {
  readonly identity: string;
  readonly xdsPort: number;
  /** The HTTPS admission webhook's port (secure mode only). */
  readonly webhookPort?: number;
  readonly monitoringUrl: string;
  readonly child: ChildProcess;
  /** All stdout+stderr so far (pino JSON lines). */
  output(): string;
  metrics(): Promise<string>;
  json<T = unknown>(path: string): Promise<T>;
  /** SIGTERM and wait for exit (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.all([...running].map((c) => stopChild(c)));
});
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return child.exitCode;
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
  running.delete(child);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    return exited;
  }
  return code;
}

export async function startController(opts: {
  kubeconfig: string;
  namespace: string;
  identity: string;
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  readyTimeoutMs?: number;
  /**
   * true: as in a cluster — the CA from its Secret, TLS xDS with proxy authentication and
   * SDS, and the webhook on 127.0.0.1:0. Default: plaintext loopback xDS and no webhook
   * (no CA), which is all the pipeline suites need.
   */
  secure?: boolean;
}): Promise<ControllerProcess> {
  const args = [weftBin, 'controller', '--kubeconfig', opts.kubeconfig, '--namespace', opts.namespace, '--leader-identity', opts.identity];
  args.push('--xds-address', '127.0.0.1:0', '--monitoring-address', '127.0.0.1:0');
  args.push(...(opts.secure ? ['--webhook-address', '127.0.0.1:0'] : ['--xds-plaintext', '--webhook-address', 'off']), ...(opts.args ?? []));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WEFT_LOG_LEVEL: 'info', VITEST: '', ...opts.env },
  });
  running.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let ready: { xdsPort: number; monitoringPort: number; webhookPort?: number } | undefined;
  while (!ready) {
    const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'));
    if (line) ready = JSON.parse(line) as { xdsPort: number; monitoringPort: number; webhookPort?: number };
    else if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(child);
      throw new Error(`weft controller exited (${child.exitCode ?? child.signalCode}) before ready:\n${out.slice(-8000)}`);
    } else if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`weft controller not ready in time:\n${out.slice(-8000)}`);
    } else await sleep(50);
  }
  const monitoringUrl = `http://127.0.0.1:${ready.monitoringPort}`;
  return {
    identity: opts.identity,
    xdsPort: ready.xdsPort,
    ...(ready.webhookPort !== undefined ? { webhookPort: ready.webhookPort } : {}),
    monitoringUrl,
    child,
    output: () => out,
    metrics: async () => (await fetch(`${monitoringUrl}/metrics`)).text(),
    json: async <T>(path: string) => (await (await fetch(`${monitoringUrl}${path}`)).json()) as T,
    stop: () => stopChild(child),
    kill: async () => {
      await stopChild(child, 'SIGKILL');
    },
  };
}

/** Lines of a controller's output where the API server answered 403 (logged with statusCode). */
export function forbiddenLines(output: string): string[] {
  return output.split('\n').filter((l) => /"statusCode":403\b/.test(l));
}

/** `weft_kube_api_requests_total` series with code="403". */
export function forbiddenSeries(metrics: string): string[] {
  return metrics.split('\n').filter((l) => l.startsWith('weft_kube_api_requests_total{') && l.includes('code="403"'));
}
