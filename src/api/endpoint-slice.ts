// discovery.k8s.io/v1 EndpointSlice. Nullable fields arrive as null from the API
// server (e.g. ports[].port for "all ports"), so they accept null as well as absent.
import { z } from 'zod';
import { dns1123Label, dns1123Subdomain, metadata, portNumber, protocol } from './common.ts';

const optionalBool = z.boolean({ error: 'must be a boolean' }).nullish();
const optionalString = z.string({ error: 'must be a string' }).nullish();

const endpoint = z.object({
  addresses: z
    .array(z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }), { error: 'must be a list' })
    .min(1, { error: 'must contain at least one address' })
    .max(100, { error: 'must contain at most 100 addresses' }),
  conditions: z.object({ ready: optionalBool, serving: optionalBool, terminating: optionalBool }, { error: 'must be an object' }).nullish(),
  targetRef: z.object({ kind: optionalString, name: optionalString, namespace: optionalString, uid: optionalString }, { error: 'must be an object' }).nullish(),
  nodeName: optionalString,
  zone: optionalString,
});

const endpointPort = z.object({
  name: z.union([z.literal(''), dns1123Label], { error: 'must be empty or a DNS-1123 label' }).nullish(),
  port: portNumber.nullish(),
  protocol: protocol.nullish(),
  appProtocol: optionalString,
});

export const EndpointSliceSchema = z.object({
  apiVersion: z.literal('discovery.k8s.io/v1'),
  kind: z.literal('EndpointSlice'),
  metadata: metadata(dns1123Subdomain),
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN'], { error: 'must be one of IPv4, IPv6, FQDN' }),
  endpoints: z
    .array(endpoint, { error: 'must be a list' })
    .max(1000, { error: 'must contain at most 1000 endpoints' })
    .nullish()
    .transform((e) => e ?? []),
  ports: z
    .array(endpointPort, { error: 'must be a list' })
    .max(100, { error: 'must contain at most 100 ports' })
    .nullish()
    .transform((p) => p ?? []),
});

export type EndpointSliceObject = z.output<typeof EndpointSliceSchema>;

/** The label that ties a slice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
