// What the weft-cni DaemonSet puts on its node, and takes back: the plugin (a sh wrapper
// named weft-cni in the CNI bin dir, and weft-cni.d/ with the node binary and the plugin's
// TypeScript) and its entry in the node's CNI configuration (conflist.ts). Every write is a
// temporary file renamed into place, so the runtime never reads half a file.
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { backupName, hasPlugin, pluginEntry, primaryConfFile, withPlugin, withoutPlugin, type PluginSettings } from './conflist.ts';

/** The plugin's sources, relative to the app root: cni-main.ts and everything it imports (test/capture keeps this complete). */
export const HOST_FILES = [
  'src/base/mesh-ports.ts',
  'src/capture/annotation.ts',
  'src/capture/cni-main.ts',
  'src/capture/cni-plugin.ts',
  'src/capture/rules.ts',
] as const;
export const PLUGIN_NAME = 'weft-cni';
const PLUGIN_DIR = `${PLUGIN_NAME}.d`;

export interface NodePaths {
  /** The node's CNI bin dir (mounted at the same path in the DaemonSet's Pod). */
  readonly binDir: string;
  /** The node's CNI configuration dir (same path in the Pod). */
  readonly confDir: string;
  /** Weft's sources (the image's /app). */
  readonly appDir: string;
  /** The node binary to copy (the image's /usr/local/bin/node). */
  readonly nodeBinary: string;
}

async function writeAtomic(path: string, data: string | Buffer, mode?: number): Promise<void> {
  const tmp = join(dirname(path), `.${PLUGIN_NAME}-tmp-${process.pid}`);
  await writeFile(tmp, data, mode === undefined ? {} : { mode });
  if (mode !== undefined) await chmod(tmp, mode);
  await rename(tmp, path);
}

/** Copies the plugin into binDir: weft-cni.d/ is replaced whole, then the wrapper is renamed into place. */
export async function installPlugin(p: NodePaths): Promise<void> {
  const dir = join(p.binDir, PLUGIN_DIR);
  const staging = join(p.binDir, `.${PLUGIN_DIR}-new`);
  await rm(staging, { recursive: true, force: true });
  for (const f of HOST_FILES) {
    await mkdir(dirname(join(staging, f)), { recursive: true });
    await copyFile(join(p.appDir, f), join(staging, f));
  }
  // Node reads .ts files as ES modules without guessing.
  await writeFile(join(staging, 'package.json'), '{ "type": "module" }\n');
  await copyFile(p.nodeBinary, join(staging, 'node'));
  await chmod(join(staging, 'node'), 0o755);
  const old = join(p.binDir, `.${PLUGIN_DIR}-old`);
  await rm(old, { recursive: true, force: true });
  await rename(dir, old).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  await rename(staging, dir);
  await rm(old, { recursive: true, force: true });
  // NODE_COMPILE_CACHE: the runtime waits for every run; the second and later start from V8's cached code.
  const wrapper =
    '#!/bin/sh\n# weft-cni: written by the weft-cni DaemonSet (docs/cni.md); removed when it is uninstalled.\n' +
    `NODE_COMPILE_CACHE="${dir}/.compile-cache" exec "${dir}/node" --no-warnings "${dir}/src/capture/cni-main.ts"\n`;
  await writeAtomic(join(p.binDir, PLUGIN_NAME), wrapper, 0o755);
}

export async function removePlugin(binDir: string): Promise<void> {
  await rm(join(binDir, PLUGIN_NAME), { force: true });
  await rm(join(binDir, PLUGIN_DIR), { recursive: true, force: true });
}

export type ConfState = { state: 'waiting'; reason: string } | { state: 'chained'; file: string; changed: boolean };

/** Chains weft-cni onto the primary conflist (keeping its original bytes first); idempotent. */
export async function chainConf(confDir: string, settings: PluginSettings): Promise<ConfState> {
  const file = primaryConfFile(await readdir(confDir));
  if (!file) return { state: 'waiting', reason: `no CNI configuration in ${confDir} yet (the primary CNI writes it)` };
  const path = join(confDir, file);
  const current = await readFile(path, 'utf8');
  const next = withPlugin(current, file, pluginEntry(settings));
  if (next === current) return { state: 'chained', file, changed: false };
  if (!hasPlugin(current, file)) await writeAtomic(join(confDir, backupName(file)), current, 0o600);
  await writeAtomic(path, next, (await stat(path)).mode & 0o7777);
  return { state: 'chained', file, changed: true };
}

/** Takes weft-cni out of every configuration file it is in, restoring the kept bytes where they still apply. */
export async function unchainConf(confDir: string): Promise<string[]> {
  const names = await readdir(confDir);
  const restored: string[] = [];
  for (const file of names) {
    if (file.startsWith('.') || !file.endsWith('.conflist')) continue;
    const path = join(confDir, file);
    const current = await readFile(path, 'utf8');
    let hasOurs: boolean;
    try {
      hasOurs = hasPlugin(current, file);
    } catch {
      continue;
    }
    const backupPath = join(confDir, backupName(file));
    if (hasOurs) {
      const backup = await readFile(backupPath, 'utf8').catch(() => undefined);
      await writeAtomic(path, withoutPlugin(current, file, backup), (await stat(path)).mode & 0o7777);
      restored.push(file);
    }
  }
  for (const n of await readdir(confDir)) if (n.startsWith('.') && n.endsWith('.weft-cni-orig')) await rm(join(confDir, n), { force: true });
  return restored;
}
