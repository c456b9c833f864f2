// The mesh view's JSON API (GET /mesh/api/graph), described once: the server builds values of
// this type, tests and the page read them, and docs/mesh-view.md explains each field.
import { z } from 'zod';

const rate = z.number().nonnegative();

export const MeshViewService = z.object({
  /** `namespace/name`: a Service of the model, or a caller known only from its proxies' node metadata. */
  id: z.string(),
  namespace: z.string(),
  name: z.string(),
  kind: z.enum(['service', 'workload']),
  ports: z.array(z.number().int()),
  endpoints: z.object({ total: z.number().int(), ready: z.number().int(), meshed: z.number().int() }),
  /** Effective PeerAuth mode of the namespace (most specific namespace-wide/mesh-wide policy); per-workload selectors may differ. */
  mtlsMode: z.enum(['STRICT', 'PERMISSIVE', 'DISABLE']),
  /** The TrafficSplit rooted at this Service, if any. */
  split: z.string().optional(),
  proxies: z.number().int(),
});

export const MeshViewEdge = z.object({
  id: z.string(),
  source: z.string(),
  destination: z.string(),
  port: z.number().int(),
  /**
   * traffic: what callers' proxies sent to the destination's cluster (observed);
   * split: a TrafficSplit's root → one backend, with its programmed weight and the share of
   * the backends' observed traffic that went to it.
   */
  kind: z.enum(['traffic', 'split']),
  /** Requests per second sent to the destination's cluster, one per attempt (retries included). */
  requestRate: rate.nullable(),
  /** Share of answers returned to callers (after retries) that were not 5xx. */
  successRate: z.number().min(0).max(1).nullable(),
  p99Ms: z.number().nonnegative().nullable(),
  retryRate: rate.nullable(),
  /** split edges: percent of the split's traffic as programmed (weights normalised to 100). */
  weight: z.number().min(0).max(100).optional(),
  /** split edges: percent of the backends' observed request rate that reached this one. */
  observedShare: z.number().min(0).max(100).nullable().optional(),
  /** How callers reach the destination: mTLS to every ready endpoint, none, or some. */
  mtls: z.enum(['mtls', 'plaintext', 'mixed', 'none']),
});

export const MeshViewTypeSync = z.object({
  type: z.string(),
  sent: z.string(),
  acked: z.string(),
  nack: z.string().optional(),
});

export const MeshViewProxy = z.object({
  id: z.string(),
  namespace: z.string(),
  service: z.string().optional(),
  identity: z.string().optional(),
  kind: z.enum(['sidecar', 'proxyless']),
  protocol: z.enum(['sotw', 'delta']),
  connectedSince: z.string(),
  /** synced: every type ACKed at the version sent; stale: something sent is not ACKed yet; nacked: the latest sent version of a type was rejected. */
  sync: z.enum(['synced', 'stale', 'nacked']),
  types: z.array(MeshViewTypeSync),
  /** The last scrape of this proxy's stats: ok, an error, or not scraped (proxyless, no stats port, view idle). */
  scrape: z.object({ state: z.enum(['ok', 'error', 'none']), error: z.string().optional(), at: z.string().optional() }),
});

export const MeshViewCertificate = z.object({
  kind: z.enum(['workload', 'serving']),
  subject: z.string(),
  notAfter: z.string(),
  expiresInSeconds: z.number(),
});

export const MeshViewSchema = z.object({
  generatedAt: z.string(),
  modelVersion: z.string().optional(),
  /** Where the per-edge signals come from: the proxies' stats scraped by this process. */
  signals: z.object({
    source: z.literal('envoy-stats'),
    intervalMs: z.number().int(),
    /** Seconds the rates cover (the last scrape interval); null before two scrapes. */
    windowSeconds: z.number().nullable(),
    lastScrapeAt: z.string().optional(),
    targets: z.number().int(),
    failed: z.number().int(),
  }),
  services: z.array(MeshViewService),
  edges: z.array(MeshViewEdge),
  proxies: z.array(MeshViewProxy),
  certificates: z.array(MeshViewCertificate),
});

export type MeshView = z.infer<typeof MeshViewSchema>;
export type MeshViewServiceT = z.infer<typeof MeshViewService>;
export type MeshViewEdgeT = z.infer<typeof MeshViewEdge>;
export type MeshViewProxyT = z.infer<typeof MeshViewProxy>;
export type MeshViewCertificateT = z.infer<typeof MeshViewCertificate>;
