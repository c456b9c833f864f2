// Generates @bufbuild/protobuf bindings for the Envoy API into xds/gen (git-ignored).
// The protos come from @grpc/grpc-js-xds; nothing third-party is committed.
// Its bundled validate.proto predates the Envoy protos (no `ignore_empty`), and Weft
// does not use PGV rules at runtime, so we strip every (validate.*) option instead of
// carrying a patched copy of validate.proto.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const depsDir = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const outDir = join(root, 'xds', 'gen');
const workDir = join(root, 'node_modules', '.cache', 'weft-protos');

/** The Envoy API files Weft builds or reads; their imports are generated too. */
const targets = [
  'envoy/config/bootstrap/v3',
  'envoy/config/listener/v3',
  'envoy/config/route/v3',
  'envoy/config/cluster/v3',
  'envoy/config/endpoint/v3',
  'envoy/config/core/v3',
  'envoy/config/grpc_credential/v3',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/service/discovery/v3',
  'envoy/service/secret/v3',
  'envoy/extensions/transport_sockets/tls/v3',
  'envoy/extensions/transport_sockets/raw_buffer/v3',
  'envoy/extensions/filters/network/http_connection_manager/v3',
  'envoy/extensions/filters/network/tcp_proxy/v3',
  'envoy/extensions/filters/http/router/v3',
  'envoy/extensions/filters/http/fault/v3',
  'envoy/extensions/filters/http/header_mutation/v3',
  'envoy/extensions/filters/http/health_check/v3',
  'envoy/extensions/filters/http/local_ratelimit/v3',
  'envoy/extensions/filters/listener/tls_inspector/v3',
  'envoy/extensions/filters/listener/original_dst/v3',
  'envoy/extensions/filters/listener/http_inspector/v3',
  'envoy/extensions/upstreams/http/v3',
  'envoy/extensions/retry/host/previous_hosts/v3',
  'envoy/extensions/access_loggers/stream/v3',
  'envoy/extensions/access_loggers/file/v3',
  'envoy/extensions/filters/http/rbac/v3',
  'envoy/extensions/filters/network/rbac/v3',
];

function protoFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return protoFiles(p);
    return name.endsWith('.proto') ? [p] : [];
  });
}

/** Removes `(validate.…)` options: field options inside [...] and `option (validate.…) = …;` statements. */
export function stripValidate(src: string): string {
  let text = src.replace(/^import\s+"validate\/validate\.proto";\s*$/gm, '');
  text = text.replace(/^\s*option\s+\(validate\.[^;]*;\s*$/gm, (m) => (balanced(m) ? '' : m));
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      const end = skipComment(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (ch === '"' || ch === "'") {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (ch === '[') {
      const end = matchBracket(text, i);
      out += rewriteFieldOptions(text.slice(i + 1, end));
      i = end + 1;
    } else {
      out += ch;
      i += 1;
    }
  }
  // A multi-line `option (validate.x) = {...};` not caught by the line regex.
  return out.replace(/option\s+\(validate\.[\s\S]*?\};/g, '');
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '{') depth += 1;
    if (c === '}') depth -= 1;
  }
  return depth === 0;
}

function skipComment(text: string, start: number): number {
  if (text[start + 1] === '/') {
    const nl = text.indexOf('\n', start);
    return nl === -1 ? text.length : nl;
  }
  const close = text.indexOf('*/', start + 2);
  return close === -1 ? text.length : close + 2;
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

function matchBracket(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      i = skipComment(text, i) - 1;
    } else if (c === '"' || c === "'") {
      i = skipString(text, i) - 1;
    } else if (c === '[' || c === '{') {
      depth += 1;
    } else if (c === ']' || c === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  throw new Error(`unbalanced [ at ${start}`);
}

/** Splits `a = 1, (validate.rules).x = {..}` at top-level commas and drops validate entries. */
function rewriteFieldOptions(inner: string): string {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < inner.length; i += 1) {
    const c = inner[i] ?? '';
    if (c === '"' || c === "'") {
      const end = skipString(inner, i);
      cur += inner.slice(i, end);
      i = end - 1;
      continue;
    }
    if (c === '{' || c === '[') depth += 1;
    if (c === '}' || c === ']') depth -= 1;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  const kept = parts.filter((p) => !/^\s*\(validate\./.test(p));
  if (kept.length === 0 || kept.every((p) => p.trim() === '')) return '';
  return `[${kept.join(',')}]`;
}

function inputsHash(): string {
  const h = createHash('sha256');
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  h.update(readFileSync(join(depsDir, '..', 'package.json')));
  h.update(readFileSync(require.resolve('@bufbuild/protoc-gen-es/package.json')));
  return h.digest('hex');
}

function main(): void {
  const stamp = join(outDir, '.stamp');
  const hash = inputsHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;

  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  for (const dep of ['envoy-api', 'xds', 'googleapis']) cpSync(join(depsDir, dep), workDir, { recursive: true, filter: (p) => !p.includes('/.git') });
  let stripped = 0;
  for (const file of protoFiles(workDir)) {
    const src = readFileSync(file, 'utf8');
    if (!src.includes('validate')) continue;
    const next = stripValidate(src);
    if (next !== src) {
      writeFileSync(file, next);
      stripped += 1;
    }
  }
  writeFileSync(join(workDir, 'buf.yaml'), 'version: v2\n');
  const template = JSON.stringify({
    version: 'v2',
    plugins: [
      {
        local: require.resolve('@bufbuild/protoc-gen-es/bin/protoc-gen-es'),
        out: outDir,
        opt: ['target=js+dts', 'import_extension=js'],
        include_imports: true,
      },
    ],
  });
  rmSync(outDir, { recursive: true, force: true });
  const buf = join(root, 'node_modules', '.bin', 'buf');
  const paths = targets.flatMap((t) => ['--path', t]);
  execFileSync(buf, ['generate', workDir, '--template', template, ...paths], { stdio: 'inherit', cwd: workDir });
  writeFileSync(stamp, hash);
  const count = protoFiles(workDir).length;
  process.stdout.write(`gen-protos: ${relative(root, outDir)} from ${count} protos (${stripped} stripped of validate options)\n`);
}

main();
