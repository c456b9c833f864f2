// core/v1 Service: only the fields Weft reads; everything else is dropped, never rejected.
import { z } from 'zod';
import { dns1035Label, dns1123Label, metadata, portNumber, protocol, stringMap } from './common.ts';

const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;

const TARGET_PORT_ERROR = 'must be a port number 1..65535 or a container port name (IANA service name, at most 15 characters)';
const targetPort = z.union([portNumber, z.string().max(15, { error: TARGET_PORT_ERROR }).regex(IANA_SVC_NAME, { error: TARGET_PORT_ERROR })], {
  error: TARGET_PORT_ERROR,
});

const servicePort = z.object({
  name: dns1123Label.optional(),
  port: portNumber,
  targetPort: targetPort.optional(),
  protocol: protocol.default('TCP'),
  appProtocol: z.string({ error: 'must be a string' }).optional(),
});

export const ServiceSchema = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: metadata(dns1035Label),
  spec: z.object(
    {
      type: z
        .enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], {
          error: 'must be one of ClusterIP, NodePort, LoadBalancer, ExternalName',
        })
        .default('ClusterIP'),
      clusterIP: z.string({ error: 'must be a string' }).optional(),
      selector: stringMap.optional(),
      ports: z
        .array(servicePort, { error: 'must be a list' })
        .default([])
        .superRefine((ports, ctx) => {
          // The API server's rules: several ports need names, names and port/protocol pairs are unique.
          const names = new Set<string>();
          const pairs = new Set<string>();
          ports.forEach((p, i) => {
            if (ports.length > 1 && !p.name) {
              ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'is required when a Service has more than one port' });
            }
            if (p.name !== undefined) {
              if (names.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate port name "${p.name}"` });
              names.add(p.name);
            }
            const pair = `${p.port}/${p.protocol}`;
            if (pairs.has(pair)) ctx.addIssue({ code: 'custom', path: [i, 'port'], message: `duplicate port ${pair}` });
            pairs.add(pair);
          });
        }),
    },
    { error: 'must be an object' },
  ),
});

export type ServiceObject = z.output<typeof ServiceSchema>;
export type ServicePortSpec = ServiceObject['spec']['ports'][number];
