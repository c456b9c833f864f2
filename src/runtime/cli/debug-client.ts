// How weftctl reads the controller's debug API: through the Kubernetes API server, by
// port-forwarding (the user's kubeconfig and RBAC) to every ready controller Pod's debug port,
// sending the user's bearer token (from the kubeconfig, or --token) for the controller's
// TokenReview + SubjectAccessReview. Every replica is asked, so a proxy shows whichever replica
// it is connected to; no replica fans out to its peers. The API server's Service proxy cannot
// be used: it drops the caller's Authorization header. --debug-url skips all of this (a
// controller run outside the cluster, or a port-forward of your own). Every failure is one
// CliFailure line that says what to do.
import { HttpMethod, type KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../../base/errors.ts';
import { KubeApiError, KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { forwardPort, type Forward } from './port-forward.ts';

/** A failure the user can act on: printed as one line, exit status 1. */
export class CliFailure extends Error {}

export interface DebugApiOptions {
  readonly kubeconfig?: string | undefined;
  readonly token?: string | undefined;
  readonly controlPlaneNamespace: string;
  readonly release: string;
  readonly debugUrls: readonly string[];
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** The controller narrowed the answer to the namespaces the caller may read (no cluster-wide right). */
  readonly narrowed?: boolean;
}

export interface Replica {
  /** The controller Pod's name (or the --debug-url). */
  readonly name: string;
  get(path: string): Promise<Answer>;
}

export interface DebugApi {
  readonly replicas: readonly Replica[];
  close(): Promise<void>;
}

interface RawPod {
  metadata?: { name?: string };
  status?: { phase?: string; conditions?: { type?: string; status?: string }[] };
  spec?: { containers?: { args?: string[] }[] };
}

const DEFAULT_MONITORING_PORT = 15014;

/** The port the Pod serves /debug/* on: --debug-address's, else --monitoring-address's. */
export function debugPortOf(pod: RawPod): number {
  const args = pod.spec?.containers?.flatMap((c) => c.args ?? []) ?? [];
  const portOf = (flag: string): number | undefined => {
    const a = args.find((x) => x.startsWith(`--${flag}=`));
    const m = a === undefined ? null : /:(\d+)$/.exec(a);
    return m?.[1] !== undefined ? Number(m[1]) : undefined;
  };
  return portOf('debug-address') ?? portOf('monitoring-address') ?? DEFAULT_MONITORING_PORT;
}

const ready = (p: RawPod): boolean => p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The user's bearer token: --token, else what the kubeconfig user sends (a token, an exec plugin's token). */
async function tokenOf(kc: KubeConfig | undefined, flag: string | undefined): Promise<string | undefined> {
  if (flag !== undefined) return flag;
  if (kc === undefined) return undefined;
  const opts: { headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(opts);
  const m = /^Bearer\s+(\S+)$/i.exec(opts.headers?.Authorization ?? '');
  return m?.[1];
}

/** The one line for an answer that is not 200 (undefined: the caller handles it, e.g. 404). */
export function refusal(a: Answer, hasToken: boolean): string | undefined {
  const error = typeof (a.body as { error?: unknown })?.error === 'string' ? (a.body as { error: string }).error : `HTTP ${a.status}`;
  if (a.status === 401)
    return hasToken
      ? `the debug API did not accept your token (${error}): pass --token $(kubectl create token <serviceaccount>) of an identity allowed to get proxies.mesh.weft.dev`
      : 'the debug API needs a bearer token and your kubeconfig user has none (a client certificate?): pass --token $(kubectl create token <serviceaccount>)';
  if (a.status === 403)
    return `the debug API refused: ${error}; ask for get on proxies.mesh.weft.dev there (kubectl create rolebinding <name> -n <namespace> --clusterrole=weft-debug-reader --user=<you>)`;
  if (a.status === 503) return `the controller could not check your token with the API server (${error}); retry`;
  if (a.status >= 400 && a.status !== 404) return `the debug API answered HTTP ${a.status}: ${error}`;
  return undefined;
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  const narrowed = res.headers.get('x-weft-scope') === 'namespaces' ? { narrowed: true } : {};
  try {
    return { status: res.status, body: JSON.parse(text) as unknown, ...narrowed };
  } catch {
    return { status: res.status, body: { error: text.slice(0, 200) }, ...narrowed };
  }
}

function replicaAt(name: string, base: string, token: string | undefined, unreachable: (err: unknown) => string): Replica {
  return {
    name,
    async get(path) {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, { headers: token !== undefined ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(20_000) });
      } catch (err) {
        throw new CliFailure(unreachable(err));
      }
      return answerOf(res);
    },
  };
}

async function controllerPods(kc: KubeConfig, ns: string, release: string): Promise<RawPod[]> {
  const selector = `app.kubernetes.io/component=controller,app.kubernetes.io/instance=${release}`;
  let pods: RawPod[];
  try {
    const list = await new KubeClient(kc).request<{ items?: RawPod[] }>(HttpMethod.GET, `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, {
      query: { labelSelector: selector },
      timeoutMs: 15_000,
    });
    pods = list.items ?? [];
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 403)
      throw new CliFailure(`you may not list pods in ${ns} to find the controller: ask for list pods there, or pass --debug-url`);
    if (err instanceof KubeApiError && err.statusCode === 401) throw new CliFailure('the API server did not accept your credentials (401): check --kubeconfig');
    throw new CliFailure(`controller unreachable: cannot reach the API server (${errorMessage(err)}); check --kubeconfig`);
  }
  const up = pods.filter(ready);
  if (up.length === 0)
    throw new CliFailure(
      `controller unreachable: no ready Weft controller Pod in ${ns} (selector ${selector}); check kubectl -n ${ns} get pods, --control-plane-namespace and --release`,
    );
  return up;
}

function forwardFailure(f: Forward, ns: string, pod: string, port: number, err: unknown): string {
  const why = f.failure();
  if (why?.status === 403) return `you may not port-forward to ${ns}/${pod}: ask for get and create on pods/portforward in ${ns}, or pass --debug-url`;
  if (why?.status === 401) return `the API server did not accept your credentials for port-forward (401): check --kubeconfig`;
  const detail = why?.message ?? errorMessage((err as { cause?: unknown })?.cause ?? err);
  return `controller unreachable: port-forward to ${ns}/${pod}:${port} failed (${detail.split('\n')[0]}); check kubectl -n ${ns} get pod ${pod}`;
}

/** Connects to every replica (port-forwards), or to the --debug-url ones; throws CliFailure. */
export async function openDebugApi(o: DebugApiOptions): Promise<DebugApi & { readonly hasToken: boolean }> {
  let kc: KubeConfig | undefined;
  try {
    kc = loadKubeConfig(o.kubeconfig);
  } catch (err) {
    if (o.debugUrls.length === 0) throw new CliFailure(`cannot load the kubeconfig (${errorMessage(err)}): check --kubeconfig or KUBECONFIG`);
  }
  const token = await tokenOf(kc, o.token).catch((err: unknown) => {
    throw new CliFailure(`cannot get a token from the kubeconfig (${errorMessage(err)}): pass --token $(kubectl create token <serviceaccount>)`);
  });
  if (o.debugUrls.length > 0) {
    const replicas = o.debugUrls.map((u) =>
      replicaAt(
        u,
        u.replace(/\/+$/, ''),
        token,
        (err) => `controller unreachable at ${u} (${errorMessage((err as { cause?: unknown })?.cause ?? err)}); check --debug-url`,
      ),
    );
    return { replicas, hasToken: token !== undefined, close: async () => {} };
  }
  const cluster = kc as KubeConfig;
  const ns = o.controlPlaneNamespace;
  const pods = await controllerPods(cluster, ns, o.release);
  const forwards: Forward[] = [];
  const replicas: Replica[] = [];
  try {
    for (const p of pods) {
      const name = p.metadata?.name ?? '';
      const port = debugPortOf(p);
      const f = await forwardPort(cluster, ns, name, port);
      forwards.push(f);
      replicas.push(replicaAt(name, f.url, token, (err) => forwardFailure(f, ns, name, port, err)));
    }
  } catch (err) {
    await Promise.allSettled(forwards.map((f) => f.close()));
    throw new CliFailure(`controller unreachable: cannot open a local port for port-forward (${errorMessage(err)})`);
  }
  return { replicas, hasToken: token !== undefined, close: async () => void (await Promise.allSettled(forwards.map((f) => f.close()))) };
}

/** Every replica's answer to `path`; the first refusal or unreachable replica throws its line. */
export async function askAll(api: DebugApi & { readonly hasToken: boolean }, path: string): Promise<{ replica: string; answer: Answer }[]> {
  const answers = await Promise.all(api.replicas.map(async (r) => ({ replica: r.name, answer: await r.get(path) })));
  for (const { answer } of answers) {
    const line = refusal(answer, api.hasToken);
    if (line !== undefined) throw new CliFailure(line);
  }
  return answers;
}
