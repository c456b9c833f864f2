// One watch request of a supervised informer (informer.ts): open the stream from a
// resourceVersion with bookmarks, split it into events, abort it when it sends nothing for
// the stall timeout, and name every way it can end as a restart reason.
import { KubeApiError, type KubeClient } from './client.ts';
import { collectionPath, namespacedCollectionPath, type ResourceRef } from './resources.ts';
import { errorMessage } from '../base/errors.ts';

export type RestartReason = 'gone' | 'stalled' | 'closed' | 'forbidden' | 'unauthorized' | 'not_found' | 'server_error' | 'network' | 'decode' | 'other';

export class StallError extends Error {
  constructor(ms: number) {
    super(`watch sent nothing (no event, no bookmark) for ${ms} ms`);
    this.name = 'StallError';
  }
}

export function classify(err: unknown): RestartReason {
  if (err instanceof StallError) return 'stalled';
  if (err instanceof SyntaxError) return 'decode';
  if (!(err instanceof KubeApiError)) return 'other';
  const c = err.statusCode;
  if (c === 410) return 'gone';
  if (c === 401) return 'unauthorized';
  if (c === 403) return 'forbidden';
  if (c === 404) return 'not_found';
  if (c === 0) return err.reason === 'Closed' ? 'closed' : 'network';
  if (c >= 500 || c === 429) return 'server_error';
  return 'other';
}

export interface WatchEvent {
  type?: unknown;
  object?: { metadata?: { name?: unknown; namespace?: unknown; resourceVersion?: unknown }; code?: unknown; reason?: unknown; message?: unknown };
}

export interface WatchRequest {
  readonly client: KubeClient;
  readonly resource: ResourceRef;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly resourceVersion: string;
  readonly timeoutSeconds: number;
  readonly stallMs: number;
  /** Aborting it ends the watch quietly (resolves true). */
  readonly signal: AbortSignal;
  /** The server accepted the watch. */
  readonly onOpen: () => void;
  /** Each event in order; a throw ends the watch with that error. */
  readonly onEvent: (ev: WatchEvent) => void;
}

/** One watch. Resolves true when the server ended a healthy watch (timeout). */
export async function watchOnce(w: WatchRequest): Promise<boolean> {
  const outer = w.signal;
  const ctl = new AbortController();
  const abortOuter = (): void => ctl.abort(outer.reason);
  outer.addEventListener('abort', abortOuter, { once: true });
  const started = performance.now();
  let lastActivity = started;
  const dog = setInterval(
    () => {
      if (performance.now() - lastActivity > w.stallMs) ctl.abort(new StallError(w.stallMs));
    },
    Math.max(50, Math.min(10_000, w.stallMs / 4)),
  );
  let events = 0;
  let stream;
  try {
    stream = await w.client.stream(w.namespace !== undefined ? namespacedCollectionPath(w.resource, w.namespace) : collectionPath(w.resource), {
      query: { watch: 1, resourceVersion: w.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: w.timeoutSeconds, labelSelector: w.labelSelector },
      signal: ctl.signal,
    });
    w.onOpen();
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of stream.body) {
      lastActivity = performance.now();
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        w.onEvent(JSON.parse(line) as WatchEvent);
        events++;
      }
    }
    // The server closed the watch (timeoutSeconds elapsed): healthy unless it was instant.
    return performance.now() - started > 1000 || events > 0;
  } catch (err) {
    if (ctl.signal.aborted && ctl.signal.reason instanceof StallError) throw ctl.signal.reason;
    if (err instanceof KubeApiError || err instanceof SyntaxError) throw err;
    if (outer.aborted) return true;
    throw new KubeApiError(0, 'NetworkError', `watch broken: ${errorMessage(err)}`);
  } finally {
    clearInterval(dog);
    outer.removeEventListener('abort', abortOuter);
    ctl.abort();
    stream?.close();
  }
}
