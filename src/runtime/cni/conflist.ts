// The node's CNI configuration, chained with weft-cni and restored byte for byte. Pure: text
// in, text out; node-files.ts does the reading and writing.
//
// The runtime uses the first configuration file of its directory in name order (containerd:
// max_conf_num 1, CRI-O likewise), so that is the one weft-cni joins, as the last plugin of
// its list. Before the first change the file's exact bytes are kept next to it (a dot file
// with a suffix the runtime never loads); uninstall writes them back when the file, minus
// weft-cni, is still what they say, and otherwise (the primary CNI rewrote the file since)
// only removes weft-cni's entry.
import { isDeepStrictEqual } from 'node:util';
import { PLUGIN_TYPE, POD_ANNOTATIONS_CAPABILITY } from '../../capture/cni-plugin.ts';

const CONF_EXTENSIONS = ['.conf', '.conflist', '.json'];

/** The file the runtime loads: the first with a CNI extension in byte order (libcni's ConfFiles, sorted). */
export function primaryConfFile(names: readonly string[]): string | undefined {
  return names.filter((n) => !n.startsWith('.') && CONF_EXTENSIONS.some((e) => n.endsWith(e))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0];
}

/** Where the original bytes of `file` are kept while weft-cni is installed. */
export const backupName = (file: string): string => `.${file}.weft-cni-orig`;

export interface PluginSettings {
  /** JSON lines with each meshed Pod's capture latency (absolute path on the node). */
  readonly logFile?: string;
}

export function pluginEntry(s: PluginSettings): Record<string, unknown> {
  return { type: PLUGIN_TYPE, ...(s.logFile ? { logFile: s.logFile } : {}), capabilities: { [POD_ANNOTATIONS_CAPABILITY]: true } };
}

interface ConfList {
  plugins: Record<string, unknown>[];
  [k: string]: unknown;
}

function parseList(text: string, file: string): ConfList {
  const obj = JSON.parse(text) as unknown;
  if (typeof obj !== 'object' || obj === null || !Array.isArray((obj as ConfList).plugins)) {
    throw new Error(`${file} is not a CNI conflist (no "plugins" list); weft-cni chains only onto a .conflist`);
  }
  return obj as ConfList;
}

const isOurs = (p: Record<string, unknown>) => p.type === PLUGIN_TYPE;

/** `text` with weft-cni as its last plugin (an existing weft-cni entry is replaced); unchanged text when it already is. */
export function withPlugin(text: string, file: string, entry: Record<string, unknown>): string {
  const list = parseList(text, file);
  const others = list.plugins.filter((p) => !isOurs(p));
  const desired = [...others, entry];
  if (isDeepStrictEqual(list.plugins, desired)) return text;
  return `${JSON.stringify({ ...list, plugins: desired }, null, 2)}\n`;
}

export function hasPlugin(text: string, file: string): boolean {
  return parseList(text, file).plugins.some(isOurs);
}

/**
 * What uninstall writes: the backup's exact bytes when `current` minus weft-cni is the same
 * configuration, else `current` minus weft-cni.
 */
export function withoutPlugin(current: string, file: string, backup: string | undefined): string {
  const list = parseList(current, file);
  if (!list.plugins.some(isOurs)) return current;
  const stripped = { ...list, plugins: list.plugins.filter((p) => !isOurs(p)) };
  if (backup !== undefined) {
    try {
      if (isDeepStrictEqual(JSON.parse(backup), stripped)) return backup;
    } catch {
      // An unreadable backup: fall back to the stripped file.
    }
  }
  return `${JSON.stringify(stripped, null, 2)}\n`;
}
