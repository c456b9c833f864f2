// Stopping and starting the kube-apiserver of a PRIVATE harness instance (never the shared
// one): the restart re-runs the exact command line up.sh used, in its own session, and
// updates the pid file so down.sh still stops everything. A second API server on the same
// etcd lets a test change the cluster while the first one is down.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient } from '../../../src/k8s/client.ts';
import { kubeConfigFor } from './api.ts';

export function apiserverPid(clusterDir: string): number {
  return Number(readFileSync(join(clusterDir, 'kube-apiserver.pid'), 'utf8').trim());
}

export function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Signals a whole process group (the API server runs in its own session) and waits until it is gone. */
export async function stopProcessGroup(pid: number, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number> {
  const t0 = performance.now();
  try {
    process.kill(-pid, signal);
  } catch {
    return 0;
  }
  while (alive(pid)) {
    if (performance.now() - t0 > timeoutMs) {
      process.kill(-pid, 'SIGKILL');
      await sleep(200);
      break;
    }
    await sleep(50);
  }
  return performance.now() - t0;
}

/** Starts a kube-apiserver with `argv` in a new session, logging to `logFile`; returns its pid. */
export function spawnApiserver(argv: readonly string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
  return child.pid!;
}

/** Restarts the cluster's API server with its original command line; returns the new pid. */
export function restartApiserver(clusterDir: string, argv: readonly string[]): number {
  const pid = spawnApiserver(argv, join(clusterDir, 'logs/kube-apiserver.log'));
  writeFileSync(join(clusterDir, 'kube-apiserver.pid'), `${pid}\n`);
  return pid;
}

/** The same API server command line on another port (same etcd, certificates and keys). */
export function secondApiserverArgs(argv: readonly string[], port: number, certDir: string): string[] {
  return argv.map((a) => (a.startsWith('--secure-port=') ? `--secure-port=${port}` : a.startsWith('--cert-dir=') ? `--cert-dir=${certDir}` : a));
}

/** Waits until an API server's /readyz says ok (every check, informer sync included). */
export async function waitApiserver(kubeconfig: string, server: string, timeoutMs = 60_000): Promise<number> {
  const client = new KubeClient(kubeConfigFor(kubeconfig, server));
  const t0 = performance.now();
  for (;;) {
    try {
      if ((await client.text('/readyz', { timeoutMs: 2000 })).trim() === 'ok') return performance.now() - t0;
    } catch (err) {
      if (performance.now() - t0 > timeoutMs) throw new Error(`API server ${server} not ready: ${(err as Error).message}`);
    }
    await sleep(100);
  }
}
