// The chart's debug API and mesh view settings, rendered: loopback-only by default; with
// debugApi.authenticated the controller checks tokens (and may ask the API server to), and a
// reader ClusterRole exists; the monitoring NetworkPolicy keeps xDS and the webhook open.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MeshPorts } from '../../src/base/mesh-ports.ts';
import { helmOffline, repoRoot } from '../support/kube.ts';

const chart = join(repoRoot, 'charts/weft');

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  spec?: Record<string, unknown>;
}

async function render(...args: string[]): Promise<Obj[]> {
  const r = await helmOffline(['template', 'weft', chart, '--namespace', 'weft-system', ...args]);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}

function controllerArgs(objs: Obj[]): string[] {
  const d = objs.find((o) => o.kind === 'Deployment') as { spec: { template: { spec: { containers: { args: string[] }[] } } } } | undefined;
  return d?.spec.template.spec.containers[0]?.args ?? [];
}

const grants = (role: Obj | undefined, group: string, resource: string, verb: string): boolean =>
  (role?.rules ?? []).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

describe('chart: debug API and mesh view', () => {
  it('debugApi.authenticated=false serves them on 127.0.0.1 only, and reviews no tokens', async () => {
    const objs = await render('--set', 'debugApi.authenticated=false');
    const args = controllerArgs(objs);
    expect(args).toContain(`--debug-address=127.0.0.1:${MeshPorts.debug}`);
    expect(args).not.toContain('--debug-auth=kube');
    const role = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'weft');
    expect(grants(role, 'authentication.k8s.io', 'tokenreviews', 'create')).toBe(false);
    expect(objs.some((o) => o.metadata.name === 'weft-debug-reader' || o.metadata.name === 'weft-weftctl')).toBe(false);
    expect(objs.some((o) => o.kind === 'NetworkPolicy')).toBe(false);
  });

  it('by default (authenticated): the monitoring port with TokenReview + SubjectAccessReview, a reader role and a weftctl role', async () => {
    const objs = await render();
    const args = controllerArgs(objs);
    expect(args).toContain('--debug-auth=kube');
    expect(args.some((a) => a.startsWith('--debug-address'))).toBe(false);
    const role = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'weft');
    expect(grants(role, 'authentication.k8s.io', 'tokenreviews', 'create')).toBe(true);
    expect(grants(role, 'authorization.k8s.io', 'subjectaccessreviews', 'create')).toBe(true);
    const reader = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'weft-debug-reader');
    expect(reader?.rules).toEqual([{ apiGroups: ['mesh.weft.dev'], resources: ['proxies'], verbs: ['get'] }]);
    const weftctl = objs.find((o) => o.kind === 'Role' && o.metadata.name === 'weft-weftctl');
    expect(weftctl?.metadata.namespace).toBe('weft-system');
    expect(grants(weftctl, '', 'pods/portforward', 'create')).toBe(true);
    expect(grants(weftctl, '', 'pods/portforward', 'get')).toBe(true); // WebSocket port-forward is a GET
    expect(grants(weftctl, '', 'pods', 'list')).toBe(true);
  });

  it('monitoring.networkPolicy: xDS and webhook open to all, the monitoring port only to the given peers', async () => {
    const peer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const objs = await render('--set', 'monitoring.networkPolicy.enabled=true', '--set-json', `monitoring.networkPolicy.from=[${JSON.stringify(peer)}]`);
    const np = objs.find((o) => o.kind === 'NetworkPolicy');
    expect(np?.spec?.policyTypes).toEqual(['Ingress']);
    expect(np?.spec?.ingress).toEqual([
      {
        ports: [
          { port: MeshPorts.xdsTls, protocol: 'TCP' },
          { port: MeshPorts.webhook, protocol: 'TCP' },
        ],
      },
      { ports: [{ port: MeshPorts.monitoring, protocol: 'TCP' }], from: [peer] },
    ]);
  });
});
