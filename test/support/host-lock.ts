// A machine-wide mutex between test workers (and CI runs) for a shared resource such as a
// fixed port: a directory created atomically, holding the owner's pid so a lock left by a
// killed process is taken over instead of blocking forever.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const held = new Set<string>();
process.once('exit', () => {
  for (const dir of held) rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for the lock `name` (up to timeoutMs) and returns its (idempotent) release function. */
export async function acquireHostLock(name: string, timeoutMs = 600_000): Promise<() => Promise<void>> {
  const dir = join(tmpdir(), `weft-lock-${name}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      held.add(dir);
      let released = false;
      // Idempotent: a second call must not remove a lock another process has taken since.
      return async () => {
        if (released) return;
        released = true;
        held.delete(dir);
        await rm(dir, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
    // No pid yet may mean the owner is between mkdir and writeFile: only a dead pid is stale.
    if (owner && !alive(owner)) await rm(dir, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`lock ${name} still held by pid ${owner || '?'} after ${timeoutMs} ms`);
    await sleep(200);
  }
}
