// The chart without a cluster: helm lint is clean, the chart's CRDs are exactly crds/,
// defaults match src/base/mesh-ports.ts, and the rendered objects keep the promises the chart
// makes (restricted Pods, webhooks that never intercept system namespaces, external mode).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { POLICY_KINDS } from '../../src/api/objects.ts';
import { Resources } from '../../src/k8s/resources.ts';
import { helmOffline, repoRoot } from '../support/kube.ts';

const chart = join(repoRoot, 'charts/weft');
const external = ['--set', 'controlPlane.external.enabled=true', '--set', 'controlPlane.external.webhookUrl=https://127.0.0.1:9443'];
const externalCa = [...external, '--set', 'controlPlane.external.caBundle=Zm9v'];

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

async function render(...args: string[]): Promise<Obj[]> {
  const r = await helmOffline(['template', 'weft', chart, '--namespace', 'weft-system', ...args]);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}
const one = (objs: Obj[], kind: string, name?: string): Obj => {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} in the rendering`);
  return o;
};
/** Value at a dotted path with [i] indices in a rendered manifest: at(deploy, 'spec.template.spec.containers[0]'). */
function at(o: unknown, path: string): unknown {
  let v = o;
  for (const key of path.replace(/\[(\d+)\]/g, '.$1').split('.')) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[key];
  return v;
}

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['--strict', ['--strict']],
    ['--strict, external control plane', ['--strict', ...externalCa]],
  ])('%s: no warnings or errors', async (_what, args) => {
    const r = await helmOffline(['lint', chart, ...args]);
    expect(r.stdout).toContain('0 chart(s) failed');
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });
});

it('charts/weft/crds is an exact copy of crds/ (make chart-crds)', () => {
  const names = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
  const top = names(join(repoRoot, 'crds'));
  expect(names(join(chart, 'crds'))).toEqual(top);
  for (const f of top) expect(readFileSync(join(chart, 'crds', f), 'utf8'), f).toBe(readFileSync(join(repoRoot, 'crds', f), 'utf8'));
});

describe('in-cluster rendering', async () => {
  const objs = await render();
  const deploy = one(objs, 'Deployment');
  const pod = at(deploy, 'spec.template.spec');
  const container = at(pod, 'containers[0]');

  it('uses the ports of src/base/mesh-ports.ts', () => {
    const ports = Object.fromEntries((at(container, 'ports') as { name: string; containerPort: number }[]).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ 'grpc-xds': MeshPorts.xdsTls, 'https-webhook': MeshPorts.webhook, 'http-monitoring': MeshPorts.monitoring });
    expect(at(one(objs, 'Service', 'weft'), 'spec.ports[0]')).toMatchObject({ port: MeshPorts.xdsTls });
    expect(at(one(objs, 'Service', 'weft-webhook'), 'spec.ports[0]')).toMatchObject({ port: 443, targetPort: 'https-webhook' });
    expect(at(one(objs, 'Service', 'weft-metrics'), 'spec.ports[0]')).toMatchObject({ port: MeshPorts.monitoring });
    expect(at(container, 'livenessProbe.httpGet')).toEqual({ path: '/healthz', port: 'http-monitoring' });
    expect(at(container, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'http-monitoring' });
  });

  it('runs 2 restricted replicas spread by hostname, with a PodDisruptionBudget', () => {
    expect(at(deploy, 'spec.replicas')).toBe(2);
    expect(at(pod, 'securityContext')).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(at(container, 'securityContext')).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(at(pod, 'affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey')).toBe('kubernetes.io/hostname');
    expect(at(container, 'resources.requests')).toBeDefined();
    expect(at(container, 'args[0]')).toBe('controller');
    expect(at(one(objs, 'PodDisruptionBudget'), 'spec.minAvailable')).toBe(1);
  });

  it('webhooks never intercept kube-system, kube-node-lease or the control-plane namespace', () => {
    const inject = at(one(objs, 'MutatingWebhookConfiguration'), 'webhooks[0]');
    const validate = at(one(objs, 'ValidatingWebhookConfiguration'), 'webhooks[0]');
    for (const w of [inject, validate]) {
      expect(at(w, 'namespaceSelector.matchExpressions')).toContainEqual({
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: expect.arrayContaining(['kube-system', 'kube-node-lease', 'weft-system']),
      });
      expect(at(w, 'sideEffects')).toBe('None');
      expect(at(w, 'clientConfig.service')).toMatchObject({ name: 'weft-webhook', namespace: 'weft-system', port: 443 });
      expect(at(w, 'clientConfig.caBundle'), 'caBundle is left to the leader').toBeUndefined();
    }
    expect(at(inject, 'namespaceSelector.matchLabels')).toEqual({ 'weft.dev/inject': 'enabled' });
    expect(inject).toMatchObject({ failurePolicy: 'Fail', reinvocationPolicy: 'IfNeeded', timeoutSeconds: 10, clientConfig: { service: { path: '/inject' } } });
    expect(at(inject, 'rules')).toEqual([{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    expect(at(validate, 'rules[0].resources')).toEqual(POLICY_KINDS.map((k) => Resources[k].plural));
  });

  it("names the proxies' xDS address after the xDS Service", () => {
    const values = JSON.parse((at(one(objs, 'ConfigMap', 'weft-inject-values'), 'data') as Record<string, string>)['values.json'] ?? '') as unknown;
    expect(values).toMatchObject({ xdsAddress: `weft.weft-system.svc:${MeshPorts.xdsTls}`, controlPlaneNamespace: 'weft-system' });
  });
});

describe('external control plane', () => {
  it('renders no Deployment, Services or PDB; webhooks call the URL with the CA', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const objs = await render(...external, '--set-string', `controlPlane.external.caBundle=${pem}`);
    expect(objs.map((o) => o.kind).filter((k) => ['Deployment', 'Service', 'PodDisruptionBudget'].includes(k))).toEqual([]);
    expect(objs.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'ClusterRole', 'Role', 'MutatingWebhookConfiguration']));
    const cc = at(one(objs, 'MutatingWebhookConfiguration'), 'webhooks[0].clientConfig');
    expect(cc).toEqual({ url: 'https://127.0.0.1:9443/inject', caBundle: Buffer.from(pem).toString('base64') });
    expect(at(one(objs, 'ValidatingWebhookConfiguration'), 'webhooks[0].clientConfig.url')).toBe('https://127.0.0.1:9443/validate');
  });

  it('values.schema.json refuses external mode without a URL and CA, or with http://', async () => {
    const bad = [
      [['--set', 'controlPlane.external.enabled=true'], 'webhookUrl'],
      [
        [...external.slice(0, 2), '--set', 'controlPlane.external.webhookUrl=http://127.0.0.1:9443', '--set', 'controlPlane.external.caBundle=Zm9v'],
        'webhookUrl',
      ],
      [['--set', 'controller.replicas=0'], 'replicas'],
      [['--set', 'webhooks.inject.failurePolicy=fail'], 'failurePolicy'],
      [['--set', 'ports.webhook=70000'], 'webhook'],
      [['--set', 'controler.replicas=2'], 'controler'],
    ] as const;
    for (const [args, field] of bad) {
      const r = await helmOffline(['template', 'weft', chart, ...args], { allowFailure: true });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toContain(field);
    }
  });
});

it('one replica gets no PodDisruptionBudget (minAvailable 1 would block every drain)', async () => {
  const objs = await render('--set', 'controller.replicas=1');
  expect(objs.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
});

it('egressDefault becomes --egress-default (one argument, spaces kept); empty by default', async () => {
  const args = async (...set: string[]) => at(one(await render(...set), 'Deployment'), 'spec.template.spec.containers[0].args') as string[];
  expect((await args()).some((a) => a.startsWith('--egress-default'))).toBe(false);
  expect(await args('--set-string', 'egressDefault=./*\\, weft-system/*')).toContain('--egress-default=./*, weft-system/*');
});

it('controller.xdsWorkers becomes --xds-workers; none by default; the schema refuses a negative count', async () => {
  const args = async (...set: string[]) => at(one(await render(...set), 'Deployment'), 'spec.template.spec.containers[0].args') as string[];
  expect((await args()).some((a) => a.startsWith('--xds-workers'))).toBe(false);
  expect(await args('--set', 'controller.xdsWorkers=2')).toContain('--xds-workers=2');
  await expect(render('--set', 'controller.xdsWorkers=-1')).rejects.toThrow(/xdsWorkers/);
});

describe('CNI mode (cni.enabled)', () => {
  it('is off by default: no DaemonSet, injection keeps weft-init', async () => {
    const objs = await render();
    expect(objs.filter((o) => o.kind === 'DaemonSet')).toEqual([]);
    const values = JSON.parse((at(one(objs, 'ConfigMap', 'weft-inject-values'), 'data') as Record<string, string>)['values.json'] ?? '') as {
      captureMode?: string;
    };
    expect(values.captureMode).toBeUndefined();
  });

  it('renders the weft-cni DaemonSet on the node paths, and switches injection to captureMode cni with the controller image', async () => {
    const objs = await render('--set', 'cni.enabled=true', '--set', 'cni.binDir=/opt/x/bin', '--set', 'image.tag=9.9.9');
    const ds = one(objs, 'DaemonSet', 'weft-cni');
    const pod = at(ds, 'spec.template.spec') as {
      containers: { args: string[]; securityContext: Record<string, unknown>; volumeMounts: { mountPath: string }[] }[];
      volumes: { hostPath?: { path: string } }[];
      tolerations: unknown[];
    };
    const c = pod.containers[0]!;
    expect(c.args).toEqual(expect.arrayContaining(['cni-node', '--bin-dir=/opt/x/bin', '--conf-dir=/etc/cni/net.d', '--node-name=$(NODE_NAME)']));
    expect(pod.volumes.map((v) => v.hostPath?.path)).toEqual(['/opt/x/bin', '/etc/cni/net.d']);
    expect(c.volumeMounts.map((m) => m.mountPath)).toEqual(['/opt/x/bin', '/etc/cni/net.d']);
    expect(c.securityContext).not.toHaveProperty('privileged');
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    const role = one(objs, 'ClusterRole', 'weft-cni') as unknown as { rules: unknown[] };
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] }]);
    const values = JSON.parse((at(one(objs, 'ConfigMap', 'weft-inject-values'), 'data') as Record<string, string>)['values.json'] ?? '') as {
      captureMode?: string;
      validationImage?: string;
    };
    expect(values).toMatchObject({ captureMode: 'cni', validationImage: 'ghcr.io/weft-mesh/weft:9.9.9' });
  });
});
