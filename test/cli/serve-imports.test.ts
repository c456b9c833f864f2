// `weft serve` runs without Kubernetes: its modules must not load the Kubernetes client,
// which with its dependencies (undici, ws, jose, openid-client, …) is ≈ 45 MiB of the idle
// process's RSS (docs/scale.md "Idle memory").
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const serve = fileURLToPath(new URL('../../src/runtime/cli/serve.ts', import.meta.url));
// Records every package a module resolves to, then imports serve.ts (without running it).
const script = `
import module from 'node:module';
const packages = new Set();
module.registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(r.url); if (m) packages.add(m[1]); return r; } });
await import(${JSON.stringify(serve)});
console.log(JSON.stringify([...packages]));
`;

it("weft serve's modules do not load the Kubernetes client", async () => {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(stderr)) : resolve(stdout),
    );
  });
  const packages = JSON.parse(out) as string[];
  expect(packages).toContain('@grpc/grpc-js'); // the probe sees packages at all
  expect(packages).not.toContain('@kubernetes/client-node');
});
