// The demo backend's contract, which the retry and split tests lean on: names itself,
// fails exactly 30 % with no two failures in a row, and runs as a standalone script.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startBackend, thirtyPercent } from './backends.ts';
import { freePort } from './free-port.ts';

describe('demo backend', () => {
  it('answers 200 with its name and counts requests', async () => {
    const b = await startBackend({ name: 'v1' });
    const res = await fetch(b.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-backend')).toBe('v1');
    expect((await res.text()).trim()).toBe('v1');
    expect(b.requests).toBe(1);
    await b.stop();
  });

  it('fails 30 % deterministically, never twice in a row', async () => {
    const pattern = Array.from({ length: 100 }, (_, i) => thirtyPercent(i + 1));
    expect(pattern.filter(Boolean)).toHaveLength(30);
    expect(pattern.some((f, i) => f && pattern[i + 1])).toBe(false);

    const b = await startBackend({ name: 'flaky', failPattern: true });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await fetch(b.url)).status);
    expect(statuses.filter((s) => s === 503)).toHaveLength(6);
    expect(b).toMatchObject({ requests: 20, failures: 6 });
    b.setFailPattern(false);
    b.resetCounts();
    expect((await fetch(b.url)).status).toBe(200);
    expect(b).toMatchObject({ requests: 1, failures: 0 });
    await b.stop();
  });

  it('runs as a script on the given port and stops on SIGTERM', async () => {
    const port = await freePort();
    const script = fileURLToPath(new URL('../../examples/backends/backend.ts', import.meta.url));
    const child = spawn(process.execPath, [script, '--name', 'v2', '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      expect(line.toString()).toContain(`listening on 127.0.0.1:${port}`);
      expect((await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim()).toBe('v2');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
