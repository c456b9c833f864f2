#!/usr/bin/env node
// Runnable demo backend: `node examples/backends/backend.ts --name v1 --port 18081 [--fail]`.
// Same server the tests use (server.ts); prints one line when listening, stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startBackend } from './server.ts';

function usage(msg: string): never {
  console.error(`backend: ${msg}\nusage: node examples/backends/backend.ts --name NAME [--port PORT] [--fail]`);
  process.exit(2);
}

let values: { name?: string; port?: string; fail?: boolean };
try {
  ({ values } = parseArgs({
    options: { name: { type: 'string' }, port: { type: 'string' }, fail: { type: 'boolean' } },
    strict: true,
  }));
} catch (err) {
  usage((err as Error).message);
}
if (!values.name) usage('--name is required');
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port: "${values.port}" is not a port`);

const backend = await startBackend({ name: values.name, port, failPattern: values.fail ?? false });
process.stdout.write(`backend ${backend.name} listening on 127.0.0.1:${backend.port}${values.fail ? ' (failing 30%)' : ''}\n`);

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void backend.stop().then(() => process.exit(0));
  });
}
