// A tiny gRPC service for the proxyless demo and tests: `weft.demo.Greeter/SayHello`
// answers with the name of the backend that served the call. Messages are raw bytes
// (UTF-8 text), so no .proto file or code generation is needed; gRPC does not care.
//
//   node examples/proxyless/greeter.ts            # greeter-v1 on 127.0.0.1:18091, greeter-v2 on :18092
//   node examples/proxyless/greeter.ts v1=18091   # any name=port pairs
import { Server, ServerCredentials, status, type ServiceDefinition } from '@grpc/grpc-js';
import { pathToFileURL } from 'node:url';

const identity = (b: Buffer): Buffer => b;

export const SAY_HELLO_PATH = '/weft.demo.Greeter/SayHello';

/** One unary method whose request and response are raw bytes. */
export const greeterService = {
  SayHello: {
    path: SAY_HELLO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: 'sayHello',
  },
} satisfies ServiceDefinition;

export interface Greeter {
  readonly name: string;
  readonly port: number;
  /** Calls answered so far. */
  readonly calls: number;
  stop(): Promise<void>;
}

export interface GreeterOptions {
  /**
   * Percent of calls answered UNAVAILABLE (the retry tests). Spread evenly and
   * deterministically: call k fails when (19·k mod 100) < percent, so at 30 % never more
   * than two calls in a row fail and a call retried twice on one server succeeds.
   */
  readonly unavailablePercent?: number;
}

/** Serves Greeter on 127.0.0.1:`port` (0 picks a free port), answering `name`. */
export async function startGreeter(name: string, port = 0, opts: GreeterOptions = {}): Promise<Greeter> {
  const server = new Server();
  let calls = 0;
  const failPercent = opts.unavailablePercent ?? 0;
  server.addService(greeterService, {
    SayHello: (_call: unknown, callback: (err: { code: number; details: string } | null, res?: Buffer) => void) => {
      const k = calls;
      calls += 1;
      if ((19 * k) % 100 < failPercent) callback({ code: status.UNAVAILABLE, details: `${name}: unavailable (call ${k})` });
      else callback(null, Buffer.from(name));
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    name,
    port: bound,
    get calls() {
      return calls;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

/** The ports examples/proxyless/mesh.yaml gives the two demo greeters. */
export const DEMO_GREETER_PORTS = { 'greeter-v1': 18091, 'greeter-v2': 18092 } as const;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const pairs = process.argv.slice(2).map((a) => a.split('='));
  const wanted: [string, number][] = pairs.length > 0 ? pairs.map(([n = '', p = '0']) => [n, Number(p)]) : Object.entries(DEMO_GREETER_PORTS);
  const greeters = await Promise.all(wanted.map(([n, p]) => startGreeter(n, p)));
  for (const g of greeters) process.stdout.write(`${g.name} listening on 127.0.0.1:${g.port}\n`);
  const stop = () => void Promise.all(greeters.map((g) => g.stop())).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
