// Shared by the `weft` and `weftctl` launchers. Plain JavaScript on purpose: it must parse on
// any Node, so an old one hears which Node to use instead of failing on the first TypeScript
// file with `Unknown file extension ".ts"`. Weft runs its TypeScript sources directly (type
// stripping, on by default from Node 22.18; @kubernetes/client-node 2.x needs 22.19).
import module from 'node:module';
import { readFileSync } from 'node:fs';

// Node calls stripTypeScriptTypes experimental and says so once per process: keep that note
// out of every command's output (it is about this launcher, not about anything the user did).
export function stripTypes(source) {
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    if (!String(warning).includes('stripTypeScriptTypes')) emitWarning.call(process, warning, ...rest);
  };
  try {
    return module.stripTypeScriptTypes(source);
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Checks Node, strips types when installed as a package, then runs `entry` (relative to the package root). */
export function launch(program, entry) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 19)) {
    process.stderr.write(
      `${program} needs Node.js 22.19 or later (24 LTS recommended); this is Node ${process.versions.node} (${process.execPath}).\n` +
        `Install Node.js 24 LTS (https://nodejs.org/, or \`nvm install 24\`) and run ${program} again.\n`,
    );
    process.exit(1);
  }

  // Installed as a package (npm install -g, npx) Weft's sources sit under node_modules, where
  // Node refuses to strip types (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING). Strip them here,
  // for this package's own files only, with the same function Node uses in a checkout.
  const root = new URL('../', import.meta.url).href;
  if (root.includes('/node_modules/')) {
    module.registerHooks({
      load(url, context, nextLoad) {
        if (!url.startsWith(root) || !url.endsWith('.ts') || url.startsWith(`${root}node_modules/`)) return nextLoad(url, context);
        const source = stripTypes(readFileSync(new URL(url), 'utf8'));
        return { format: 'module', source, shortCircuit: true };
      },
    });
  }

  // No top-level await: an old Node must get as far as the message above.
  import(new URL(entry, root).href).catch((err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
}
