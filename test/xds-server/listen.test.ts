// The xDS listening socket is Weft's (xds/server/listen.ts): a deep accept backlog, so a
// reconnect storm is queued by the kernel instead of dropped and retried by the proxies.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startXdsServer } from '../../xds/server/start.ts';
import { listenTarget } from '../../xds/server/listen.ts';
import { World } from './support/world.ts';

function hasSs(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('xDS listener', () => {
  it('parses the addresses grpc-js took', () => {
    expect(listenTarget('127.0.0.1:15010')).toEqual({ host: '127.0.0.1', port: 15010 });
    expect(listenTarget('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(listenTarget('unix:/run/weft.sock')).toEqual({ path: '/run/weft.sock' });
    expect(listenTarget('unix:///run/weft.sock')).toEqual({ path: '/run/weft.sock' });
    expect(() => listenTarget('localhost')).toThrow(/expected host:port/);
  });

  it.skipIf(!hasSs())('listens with the accept backlog asked for (the kernel shows it as the LISTEN socket Send-Q)', async () => {
    const server = await startXdsServer({ address: '127.0.0.1:0', cache: new World().cache, acceptBacklog: 1000 });
    try {
      const out = execFileSync('ss', ['-Hltn', `sport = :${server.port}`], { encoding: 'utf8' });
      const sendQ = Number(out.trim().split(/\s+/)[2]);
      const somaxconn = Number(execFileSync('cat', ['/proc/sys/net/core/somaxconn'], { encoding: 'utf8' }));
      expect(sendQ).toBe(Math.min(1000, somaxconn));
    } finally {
      await server.close();
    }
  });
});
