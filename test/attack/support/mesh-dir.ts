// A config directory for `weft serve` holding a mesh of `namespaces` × `services` Services
// (two ports each) with `endpoints` ready endpoints apiece: a 1,000-service mesh's EDS answer
// is what a re-subscribing client makes the server send again and again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function meshDir(shape: { namespaces: number; services: number; endpoints: number }): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-attack-'));
  const docs: unknown[] = [];
  for (let n = 0; n < shape.namespaces; n++) {
    const ns = `ns-${n}`;
    for (let s = 0; s < shape.services; s++) {
      const name = `svc-${s}`;
      const ports = [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'grpc', port: 9090, protocol: 'TCP' },
      ];
      docs.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns },
        spec: { clusterIP: `10.96.${n}.${s + 1}`, selector: { app: name }, ports: ports.map(({ name: pn, port }) => ({ name: pn, port, targetPort: port })) },
      });
      docs.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-x`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        ports,
        endpoints: Array.from({ length: shape.endpoints }, (_, i) => ({ addresses: [`10.${100 + n}.${s}.${i + 1}`], conditions: { ready: true } })),
      });
    }
  }
  await writeFile(join(dir, 'mesh.yaml'), docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
