// A small Kubernetes API client: @kubernetes/client-node's KubeConfig for credentials and
// TLS (kubeconfig file or in-cluster service account, re-read per request so rotated
// tokens work), its HTTP stack for transport, and raw JSON paths for everything else.
// Raw paths keep objects exactly as the API server sent them (no typed-model
// deserialization), so zod validates the same JSON the file source reads; every answer's
// status code is counted and logged in a `statusCode` field.
import { existsSync } from 'node:fs';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext, type ResponseContext } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import { log as rootLog, type Logger } from '../base/log.ts';
import { metricsRegistry } from '../base/metrics.ts';
import { errorMessage } from '../base/errors.ts';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const kubeRequests = new Counter({
  name: 'weft_kube_api_requests_total',
  help: 'Requests to the Kubernetes API server, by verb, resource and HTTP status code (0: no answer).',
  labelNames: ['verb', 'resource', 'code'] as const,
  registers: [metricsRegistry],
});

/** Loads credentials from `--kubeconfig`, else in-cluster, else $KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) kc.loadFromFile(file);
  else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  return kc;
}

/** A non-2xx answer from the API server (or none at all: statusCode 0). */
export class KubeApiError extends Error {
  readonly statusCode: number;
  /** The Status reason (`NotFound`, `Conflict`, `Expired`, ...) when the server sent one. */
  readonly reason: string;
  constructor(statusCode: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** Content type for the body; JSON by default. */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Per-request timeout (default 20 s); not applied to streams. */
  readonly timeoutMs?: number;
}

export interface StreamResponse {
  readonly body: ReadableStream<Uint8Array>;
  /** Releases the connection (closes the transport). */
  close(): void;
}

/** `/apis/mesh.weft.dev/v1alpha1/namespaces/x/trafficsplits/y/status` → `trafficsplits`. */
export function resourceOf(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const start = parts[0] === 'api' ? 2 : 3;
  const rest = parts.slice(start);
  if (rest[0] === 'namespaces' && rest.length > 2) return rest[2]!;
  return rest[0] ?? 'unknown';
}

function statusFrom(code: number, text: string): KubeApiError {
  try {
    const s = JSON.parse(text) as { reason?: unknown; message?: unknown };
    const reason = typeof s.reason === 'string' ? s.reason : '';
    const message = typeof s.message === 'string' ? s.message : text.slice(0, 500);
    return new KubeApiError(code, reason, `HTTP ${code}${reason ? ` ${reason}` : ''}: ${message}`);
  } catch {
    return new KubeApiError(code, '', `HTTP ${code}: ${text.slice(0, 500)}`);
  }
}

interface Closable {
  close?: () => Promise<void> | void;
  destroy?: () => Promise<void> | void;
}

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly server: string;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #log: Logger;

  constructor(kc: KubeConfig, log: Logger = rootLog) {
    this.kubeConfig = kc;
    this.server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    this.#log = log.child({ component: 'kube-client' });
  }

  /** One JSON request; resolves with the parsed body of a 2xx answer, rejects with KubeApiError. */
  async request<T = unknown>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 20_000), ...(opts.signal ? [opts.signal] : [])];
    const { status, text, release } = await this.#send(method, path, opts, AbortSignal.any(signals), async (r) => r.body.text());
    release();
    if (status < 200 || status > 299) throw statusFrom(status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A plain-text GET (`/readyz`, `/livez`); rejects with KubeApiError on a non-2xx answer. */
  async text(path: string, opts: RequestOptions = {}): Promise<string> {
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 20_000), ...(opts.signal ? [opts.signal] : [])];
    const { status, text, release } = await this.#send(HttpMethod.GET, path, opts, AbortSignal.any(signals), async (r) => r.body.text());
    release();
    if (status < 200 || status > 299) throw statusFrom(status, text);
    return text;
  }

  /** A streaming GET (watch). The caller reads `body` and must call `close()`. */
  async stream(path: string, opts: RequestOptions & { signal: AbortSignal }): Promise<StreamResponse> {
    let body: ReadableStream<Uint8Array> | undefined;
    const { status, text, release } = await this.#send(HttpMethod.GET, path, opts, opts.signal, async (r) => {
      if (r.httpStatusCode !== 200) return r.body.text();
      body = r.body.stream() as ReadableStream<Uint8Array>;
      return '';
    });
    if (status !== 200 || body === undefined) {
      release();
      throw statusFrom(status, text);
    }
    return { body, close: release };
  }

  async #send(
    method: HttpMethod,
    path: string,
    opts: RequestOptions,
    signal: AbortSignal,
    read: (r: ResponseContext) => Promise<string>,
  ): Promise<{ status: number; text: string; release: () => void }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    ctx.setHeaderParam('Accept', 'application/json');
    if (opts.body !== undefined) {
      ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(opts.body));
    }
    ctx.setSignal(signal);
    const dispatcher = ctx.getDispatcher() as Closable | undefined;
    // Every request gets its own dispatcher (client-node creates one per call): close it when done.
    const release = (): void => {
      void Promise.resolve(dispatcher?.destroy?.()).catch(() => {});
    };
    const verb = opts.query?.watch ? 'WATCH' : method;
    const resource = resourceOf(path);
    let status = 0;
    try {
      const res = await this.#http.send(ctx).toPromise();
      status = res.httpStatusCode;
      const text = await read(res);
      kubeRequests.inc({ verb, resource, code: String(status) });
      this.#logAnswer(verb, path, status, text);
      return { status, text, release };
    } catch (err) {
      release();
      kubeRequests.inc({ verb, resource, code: String(status) });
      if (err instanceof KubeApiError) throw err;
      const aborted = signal.aborted;
      const message = aborted ? `request aborted: ${errorMessage(signal.reason)}` : errorMessage(err);
      throw new KubeApiError(0, aborted ? 'Aborted' : 'NetworkError', `${method} ${path}: ${message}`);
    }
  }

  #logAnswer(verb: string, path: string, statusCode: number, text: string): void {
    if (statusCode >= 200 && statusCode < 300) return;
    const fields = { verb, path, statusCode, answer: text.slice(0, 300) };
    // 401/403 mean our credentials or RBAC are wrong: never expected, always loud.
    if (statusCode === 401 || statusCode === 403) this.#log.error(fields, 'kubernetes API request denied');
    else if (statusCode >= 500) this.#log.warn(fields, 'kubernetes API request failed');
    else this.#log.debug(fields, 'kubernetes API request answered with an error');
  }
}

/** Whether an error is worth retrying (network, timeouts, 429, 5xx). */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return true;
  return err.statusCode === 0 || err.statusCode === 429 || err.statusCode >= 500;
}
