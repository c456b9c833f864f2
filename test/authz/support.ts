// Callers for the authorization tests: an HTTPS request with a workload certificate (a
// mesh peer with that identity) or without TLS (a plaintext caller under PERMISSIVE), and
// a TCP exchange with either. Every helper resolves to an outcome instead of throwing.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export type Reply = { ok: true; status: number; body: string } | { ok: false; error: string };

/** A mesh caller: its SVID chain and key, and the trust bundle it verifies the server with. */
export interface Caller {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** SVIDs carry only a URI SAN: require one instead of a host name. */
const spiffeServer = (_host: string, cert: { subjectaltname?: string }) =>
  /URI:spiffe:\/\//.test(cert.subjectaltname ?? '') ? undefined : new Error('no SPIFFE SAN');

function reply(req: ReturnType<typeof httpRequest>): Promise<Reply> {
  return new Promise((resolve) => {
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ ok: false, error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
}

/** `caller` absent: plaintext HTTP. */
export function get(port: number, path: string, caller?: Caller, opts: RequestOptions = {}): Promise<Reply> {
  const common = { host: '127.0.0.1', port, path, agent: false, method: opts.method ?? 'GET', headers: opts.headers ?? {} } as const;
  if (!caller) return reply(httpRequest(common));
  return reply(httpsRequest({ ...common, ca: caller.ca, cert: caller.cert, key: caller.key, checkServerIdentity: spiffeServer }));
}

export type Exchange = { ok: true; echoed: string } | { ok: false; error: string };

/** Writes `text` on the socket `open` makes and waits for its echo, or for the server to close the connection. */
function echo(open: (onConnect: () => void) => Socket, text: string): Promise<Exchange> {
  return new Promise((resolve) => {
    let got = '';
    let done = false;
    const finish = (r: Exchange) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(r);
    };
    const socket = open(() => socket.write(text));
    socket.setTimeout(5000, () => finish({ ok: false, error: 'timeout' }));
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) finish({ ok: true, echoed: got });
    });
    socket.on('end', () => finish({ ok: false, error: 'closed' }));
    socket.on('close', () => finish({ ok: false, error: 'closed' }));
    socket.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }));
  });
}

/** The exchange over mTLS as `caller`, offering its ALPN. */
export function tcpEcho(port: number, text: string, caller: Caller & { alpn: string }): Promise<Exchange> {
  return echo(
    (onConnect) =>
      tlsConnect(
        { host: '127.0.0.1', port, ca: caller.ca, cert: caller.cert, key: caller.key, ALPNProtocols: [caller.alpn], checkServerIdentity: spiffeServer },
        onConnect,
      ),
    text,
  );
}

/** The same exchange without TLS. */
export function plainTcpEcho(port: number, text: string): Promise<Exchange> {
  return echo((onConnect) => tcpConnect({ host: '127.0.0.1', port }, onConnect), text);
}
