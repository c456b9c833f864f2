// `weftctl check`: one line per thing an operator would otherwise check by hand, each saying
// what to do when it fails. Read-only, except one server-side dry-run Pod (nothing is stored).
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpMethod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { errorMessage } from '../../base/errors.ts';
import { SecretKeys } from '../../ca/secret-store.ts';
import { KubeApiError, KubeClient, loadKubeConfig } from '../../k8s/client.ts';
import { INJECT_LABEL, INJECT_LABEL_VALUE } from '../../../webhook/values.ts';
import type { CheckFlags } from './check-flags.ts';
import { processIo, type CliIo } from './flags.ts';

type Status = 'ok' | 'warn' | 'fail' | 'skip';
interface Line {
  readonly status: Status;
  readonly text: string;
}
const line = (status: Status, text: string): Line => ({ status, text });

const CRD_DIR = fileURLToPath(new URL('../../../crds/', import.meta.url));
const MIN_MINOR = 29; // native sidecars (restartPolicy: Always init containers) and CEL in CRDs
const ROOT_WARN_DAYS = 30;

interface Crd {
  metadata: { name: string };
  spec: { versions: { name: string; schema?: unknown }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Same keys in any order: what the API server returns reorders nothing but may add defaults, so compare ours ⊆ theirs. */
function covers(theirs: unknown, ours: unknown): boolean {
  if (ours === null || typeof ours !== 'object') return theirs === ours;
  if (Array.isArray(ours)) return Array.isArray(theirs) && ours.length === theirs.length && ours.every((o, i) => covers(theirs[i], o));
  if (theirs === null || typeof theirs !== 'object') return false;
  return Object.entries(ours).every(([k, v]) => covers((theirs as Record<string, unknown>)[k], v));
}

async function apiServer(client: KubeClient): Promise<Line> {
  const v = await client.request<{ major: string; minor: string; gitVersion: string }>(HttpMethod.GET, '/version');
  const minor = Number.parseInt(v.minor, 10);
  return Number(v.major) === 1 && minor >= MIN_MINOR
    ? line('ok', `API server ${v.gitVersion}`)
    : line('fail', `API server ${v.gitVersion}: Weft needs Kubernetes 1.${MIN_MINOR} or later`);
}

async function crds(client: KubeClient): Promise<Line[]> {
  const files = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'));
  const out: Line[] = [];
  for (const f of files) {
    const ours = parse(readFileSync(join(CRD_DIR, f), 'utf8')) as Crd;
    const name = ours.metadata.name;
    let live: Crd;
    try {
      live = await client.request<Crd>(HttpMethod.GET, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) {
        out.push(line('fail', `CRD ${name} is not installed: helm install (or kubectl apply -f crds/)`));
        continue;
      }
      throw err;
    }
    const established = live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    const same = ours.spec.versions.every((v) => covers(live.spec.versions.find((l) => l.name === v.name)?.schema, v.schema));
    if (!established) out.push(line('fail', `CRD ${name} is not Established yet`));
    else if (!same) out.push(line('warn', `CRD ${name} differs from this weftctl's version: upgrade the chart (helm upgrade) or this CLI`));
    else out.push(line('ok', `CRD ${name} (${ours.spec.versions.map((v) => v.name).join(', ')})`));
  }
  return out;
}

interface Deployment {
  metadata: { name: string };
  spec: { replicas?: number; template: { spec: { containers: { args?: string[] }[] } } };
  status?: { readyReplicas?: number };
}

function arg(d: Deployment, flag: string): string | undefined {
  const a = d.spec.template.spec.containers[0]?.args?.find((x) => x.startsWith(`--${flag}=`));
  return a?.slice(flag.length + 3);
}

async function controller(client: KubeClient, ns: string, selector: string): Promise<{ lines: Line[]; caSecret: string }> {
  const list = await client.request<{ items: Deployment[] }>(HttpMethod.GET, `/apis/apps/v1/namespaces/${ns}/deployments`, {
    query: { labelSelector: selector },
  });
  const d = list.items[0];
  if (!d)
    return {
      lines: [line('fail', `no Weft controller Deployment in ${ns} (selector ${selector}): is the release installed there? (-n, --release)`)],
      caSecret: 'weft-root-ca',
    };
  const want = d.spec.replicas ?? 1;
  const ready = d.status?.readyReplicas ?? 0;
  const lines = [
    ready === want && want > 0
      ? line('ok', `controller ${ns}/${d.metadata.name}: ${ready}/${want} replicas ready`)
      : line('fail', `controller ${ns}/${d.metadata.name}: ${ready}/${want} replicas ready (kubectl -n ${ns} describe deployment ${d.metadata.name})`),
  ];
  const leaseName = arg(d, 'lease-name') ?? 'weft-controller';
  try {
    const lease = await client.request<{ spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } }>(
      HttpMethod.GET,
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${leaseName}`,
    );
    const renewed = lease.spec?.renewTime ? Date.parse(lease.spec.renewTime) : NaN;
    const age = (Date.now() - renewed) / 1000;
    const limit = lease.spec?.leaseDurationSeconds ?? 15;
    lines.push(
      lease.spec?.holderIdentity && age <= limit
        ? line('ok', `leader ${lease.spec.holderIdentity} (Lease ${leaseName} renewed ${Math.max(0, Math.round(age))}s ago)`)
        : line(
            'fail',
            `no current leader: Lease ${leaseName} ${lease.spec?.holderIdentity ? `held by ${lease.spec.holderIdentity} but not renewed for ${Math.round(age)}s` : 'has no holder'}; status is not being written`,
          ),
    );
  } catch (err) {
    lines.push(
      line(
        'fail',
        `Lease ${ns}/${leaseName}: ${err instanceof KubeApiError && err.statusCode === 404 ? 'not found: no replica has led yet' : errorMessage(err)}`,
      ),
    );
  }
  return { lines, caSecret: arg(d, 'ca-secret') ?? 'weft-root-ca' };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
const certsOf = (pem: string): X509Certificate[] => (pem.match(PEM_CERT) ?? []).map((p) => new X509Certificate(p));

async function caAndWebhooks(client: KubeClient, ns: string, secretName: string, selector: string): Promise<Line[]> {
  const lines: Line[] = [];
  let roots: X509Certificate[] = [];
  try {
    const secret = await client.request<{ data?: Record<string, string> }>(HttpMethod.GET, `/api/v1/namespaces/${ns}/secrets/${secretName}`);
    const data = secret.data ?? {};
    const chain = certsOf(Buffer.from(data[SecretKeys.cert] ?? '', 'base64').toString());
    const bundle = data[SecretKeys.bundle];
    roots = bundle ? certsOf(Buffer.from(bundle, 'base64').toString()) : chain.slice(-1);
    const root = roots[0];
    if (!root) lines.push(line('fail', `CA Secret ${ns}/${secretName} holds no certificate`));
    else {
      const days = Math.floor((Date.parse(root.validTo) - Date.now()) / 86_400_000);
      lines.push(
        days > ROOT_WARN_DAYS
          ? line('ok', `root CA ${ns}/${secretName}: ${root.subject.replace(/\n/g, ', ')}, expires in ${days} days`)
          : line(days > 0 ? 'warn' : 'fail', `root CA ${ns}/${secretName} expires in ${days} days (${root.validTo}): plan a root rotation`),
      );
    }
  } catch (err) {
    lines.push(
      line(
        'fail',
        `CA Secret ${ns}/${secretName}: ${err instanceof KubeApiError && err.statusCode === 404 ? 'not found (the controller creates it on first start)' : errorMessage(err)}`,
      ),
    );
  }
  for (const kind of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'] as const) {
    const list = await client.request<{ items: { metadata: { name: string }; webhooks?: { name: string; clientConfig: { caBundle?: string } }[] }[] }>(
      HttpMethod.GET,
      `/apis/admissionregistration.k8s.io/v1/${kind}`,
      { query: { labelSelector: selector } },
    );
    const what = kind.startsWith('mutating') ? 'injection webhook' : 'validating webhook';
    if (list.items.length === 0) {
      lines.push(line('fail', `${what}: no ${kind} with ${selector}`));
      continue;
    }
    for (const cfg of list.items) {
      for (const w of cfg.webhooks ?? []) {
        const bundle = certsOf(Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString());
        const trusted = roots.length > 0 && roots.every((r) => bundle.some((b) => b.fingerprint256 === r.fingerprint256));
        lines.push(
          bundle.length === 0
            ? line('fail', `${what} ${cfg.metadata.name}/${w.name}: empty caBundle (the leader fills it; is a leader running?)`)
            : trusted
              ? line('ok', `${what} ${cfg.metadata.name}/${w.name}: caBundle trusts the root CA`)
              : line('fail', `${what} ${cfg.metadata.name}/${w.name}: caBundle does not match the root CA in ${ns}/${secretName}`),
        );
      }
    }
  }
  return lines;
}

type WebhookList = { items: { metadata: { name: string }; webhooks?: { namespaceSelector?: { matchLabels?: Record<string, string> } }[] }[] };

/** A server-side dry-run Pod in a namespace this release's injection webhook selects. */
async function injection(client: KubeClient, selector: string): Promise<Line> {
  const cfgs = await client.request<WebhookList>(HttpMethod.GET, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
    query: { labelSelector: selector },
  });
  const labels = cfgs.items[0]?.webhooks?.[0]?.namespaceSelector?.matchLabels ?? { [INJECT_LABEL]: INJECT_LABEL_VALUE };
  const nsSelector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const list = await client.request<{ items: { metadata: { name: string } }[] }>(HttpMethod.GET, '/api/v1/namespaces', {
    query: { labelSelector: nsSelector },
  });
  const ns = list.items[0]?.metadata.name;
  if (!ns) return line('skip', `injection: no namespace is labelled ${nsSelector} yet, so no dry-run Pod was tried`);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'weftctl-check-' },
    spec: { containers: [{ name: 'app', image: 'weftctl-check.invalid/app:1' }] },
  };
  const out = await client.request<{ spec?: { containers?: { name: string }[]; initContainers?: { name: string }[] } }>(
    HttpMethod.POST,
    `/api/v1/namespaces/${ns}/pods`,
    {
      query: { dryRun: 'All' },
      body: pod,
    },
  );
  const names = [...(out.spec?.containers ?? []), ...(out.spec?.initContainers ?? [])].map((c) => c.name);
  return names.includes('weft-proxy')
    ? line('ok', `injection: a dry-run Pod in ${ns} came back with the weft-proxy sidecar`)
    : line('fail', `injection: a dry-run Pod in ${ns} came back without a sidecar: is the webhook reachable from the API server?`);
}

const MARK: Readonly<Record<Status, string>> = { ok: '✔', warn: '!', fail: '✘', skip: '-' };

export async function checkWith(flags: CheckFlags, io: CliIo = processIo): Promise<number> {
  let client: KubeClient;
  try {
    client = new KubeClient(loadKubeConfig(flags.kubeconfig));
  } catch (err) {
    io.stderr(`weftctl check: ${errorMessage(err)}; check --kubeconfig\n`);
    return 2;
  }
  const selector = `app.kubernetes.io/name=weft,app.kubernetes.io/instance=${flags.release}`;
  let failed = false;
  // Each step prints as soon as it is known: a hanging API call shows where it hangs.
  const run = async (name: string, fn: () => Promise<Line | Line[]>) => {
    let out: Line[];
    try {
      out = [await fn()].flat();
    } catch (err) {
      const denied = err instanceof KubeApiError && err.statusCode === 403;
      out = [line('fail', `${name}: ${denied ? 'forbidden for your credentials: ask for read access to it' : errorMessage(err)}`)];
    }
    for (const l of out) {
      if (l.status === 'fail') failed = true;
      io.stdout(`${MARK[l.status]} ${l.text}\n`);
    }
  };
  await run('API server', () => apiServer(client));
  await run('CRDs', () => crds(client));
  if (!flags.pre) {
    let caSecret = 'weft-root-ca';
    await run('controller', async () => {
      const r = await controller(client, flags.namespace, selector);
      caSecret = r.caSecret;
      return r.lines;
    });
    await run('CA and webhooks', () => caAndWebhooks(client, flags.namespace, caSecret, selector));
    await run('injection', () => injection(client, selector));
  }
  return failed ? 1 : 0;
}
