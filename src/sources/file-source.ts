// Standalone mode's config source: every *.yaml / *.yml file directly in one directory
// (not recursive; dot-files ignored; symlinks followed, so a mounted ConfigMap works),
// watched with fs.watch. Any event just marks the directory dirty; a debounced reload
// re-reads the whole directory (level-triggered), so editors' rename-on-save, deletes
// and bursts of writes all converge on the same result. Only files whose text changed are
// parsed again: the others keep their outcome (and object instances), and a reload where
// no text changed ends there.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../base/log.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { Debouncer } from '../base/debounce.ts';
import { canonicalJson } from '../model/canonical.ts';
import { evaluateFile, mergeFiles, type FileEntry, type FileOutcome } from './file-documents.ts';
import { configObjects, configProblems, configReloads } from './metrics.ts';
import { CONFIG_KINDS } from '../api/objects.ts';
import type { ConfigProblem, ConfigSource, ConfigState } from './source.ts';
import { errorMessage } from '../base/errors.ts';

const YAML_FILE = /^[^.].*\.ya?ml$/;

export interface FileSourceOptions {
  /** Quiet period after the last event before reloading. */
  readonly debounceMs?: number;
  /** Upper bound on how long a stream of events can postpone a reload. */
  readonly maxDelayMs?: number;
  /** Time for the debounce and the re-watch delay (default: the system clock). */
  readonly clock?: Clock;
}

export class FileSource implements ConfigSource {
  readonly #dir: string;
  readonly #clock: Clock;
  /** The one debounce between an edit and the proxies (see src/base/debounce.ts). */
  readonly #debounce: Debouncer;
  readonly #log;
  #lastGood = new Map<string, readonly FileEntry[]>();
  /** Each file's text at the last reload and what it evaluated to (a file's outcome is a function of its text, see #reload). */
  #parsed = new Map<string, { readonly text: string; readonly outcome: FileOutcome }>();
  #lastEmitted: string | undefined;
  #loggedProblems = new Set<string>();
  #onChange: ((state: ConfigState) => void) | undefined;
  #watcher: FSWatcher | undefined;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(dir: string, opts: FileSourceOptions = {}) {
    this.#dir = dir;
    this.#clock = opts.clock ?? systemClock;
    this.#debounce = new Debouncer(
      { holdoffMs: opts.debounceMs ?? 100, maxDelayMs: opts.maxDelayMs ?? 500, clock: this.#clock },
      () => void this.#enqueueReload(),
    );
    this.#log = log.child({ component: 'file-source', dir });
  }

  async start(onChange: (state: ConfigState) => void): Promise<void> {
    await stat(this.#dir); // a missing directory is an operational error: fail loudly at startup
    this.#onChange = onChange;
    this.#watch(); // before the first read, so no edit falls between read and watch
    await this.#enqueueReload();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#debounce.cancel();
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#chain;
  }

  #watch(): void {
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, () => this.#markDirty());
      this.#watcher.on('error', (err) => this.#rewatch(err));
    } catch (err) {
      this.#rewatch(err);
    }
  }

  /** The directory vanished or the watch broke: try again, and reload meanwhile. */
  #rewatch(err: unknown): void {
    this.#log.error({ err }, 'directory watch failed; retrying');
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#stopped) return;
    this.#clock
      .setTimeout(() => {
        if (this.#stopped) return;
        this.#watch();
        this.#markDirty();
      }, 1000)
      .unref();
  }

  #markDirty(): void {
    if (this.#stopped) return;
    this.#debounce.trigger();
  }

  /** Reloads never overlap: each waits for the previous one. */
  #enqueueReload(): Promise<void> {
    this.#chain = this.#chain
      .then(() => this.#reload())
      .catch((err: unknown) => {
        this.#log.error({ err }, 'config reload failed');
      });
    return this.#chain;
  }

  async #listYamlFiles(): Promise<string[]> {
    const names = (await readdir(this.#dir)).filter((n) => YAML_FILE.test(n)).sort();
    const files: string[] = [];
    for (const name of names) {
      const st = await stat(join(this.#dir, name)).catch(() => undefined);
      if (st?.isFile()) files.push(name);
    }
    return files;
  }

  async #reload(): Promise<void> {
    if (this.#stopped) return;
    const outcomes: [string, FileOutcome][] = [];
    const extra: ConfigProblem[] = [];
    let files: string[];
    try {
      files = await this.#listYamlFiles();
    } catch (err) {
      // Directory gone or unreadable: keep serving everything we had.
      files = [...this.#lastGood.keys()];
      extra.push({ source: this.#dir, field: '(directory)', reason: `cannot list directory: ${errorMessage(err)}; still serving the last good config` });
      for (const f of files) outcomes.push([f, { entries: this.#lastGood.get(f) ?? [], problems: [], kept: [] }]);
      this.#parsed = new Map(); // the next listing publishes, clearing this problem
      return this.#publish(outcomes, extra);
    }
    const parsed = new Map<string, { text: string; outcome: FileOutcome }>();
    let changed = files.length !== this.#parsed.size;
    for (const file of files) {
      const last = this.#lastGood.get(file) ?? [];
      let text: string;
      try {
        text = await readFile(join(this.#dir, file), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted since listing
        changed = true;
        outcomes.push([
          file,
          {
            entries: last,
            problems: [{ source: file, field: '(file)', reason: `cannot read: ${errorMessage(err)}; still serving its last good version` }],
            kept: [],
          },
        ]);
        continue;
      }
      // Same text, same outcome: evaluating it again against its own entries as the last
      // good version gives back the same entries and problems, so the parse is skipped.
      const before = this.#parsed.get(file);
      const outcome = before?.text === text ? before.outcome : evaluateFile(file, text, last);
      if (outcome !== before?.outcome) changed = true;
      parsed.set(file, { text, outcome });
      outcomes.push([file, outcome]);
    }
    this.#parsed = parsed;
    this.#lastGood = new Map(outcomes.map(([f, o]) => [f, o.entries]));
    if (!changed && this.#lastEmitted !== undefined) {
      configReloads.inc({ source: 'file', result: 'unchanged' });
      return;
    }
    this.#publish(outcomes, extra);
  }

  #publish(outcomes: readonly [string, FileOutcome][], extra: readonly ConfigProblem[]): void {
    const state = mergeFiles(outcomes, extra);
    const fingerprint = canonicalJson(state);
    if (fingerprint === this.#lastEmitted || this.#stopped) {
      configReloads.inc({ source: 'file', result: 'unchanged' });
      return;
    }
    this.#lastEmitted = fingerprint;
    configReloads.inc({ source: 'file', result: 'changed' });
    configProblems.set({ source: 'file' }, state.problems.length);
    for (const kind of CONFIG_KINDS) {
      configObjects.set({ source: 'file', kind }, state.objects.filter((o) => o.kind === kind).length);
    }
    // Log each problem once, when it appears, not on every later change.
    const current = new Set(state.problems.map((p) => canonicalJson(p)));
    for (const p of state.problems) {
      if (!this.#loggedProblems.has(canonicalJson(p))) this.#log.warn({ source: p.source, field: p.field, reason: p.reason }, 'config problem');
    }
    this.#loggedProblems = current;
    this.#log.info({ objects: state.objects.length, problems: state.problems.length }, 'config state changed');
    try {
      this.#onChange?.(state);
    } catch (err) {
      this.#log.error({ err }, 'config change handler threw');
    }
  }
}
