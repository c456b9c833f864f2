// The parts of a Pod injection reads, validated with zod. Every object is loose so fields we
// don't model survive the deep copy untouched (the patch must only describe our changes).
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());
// Kubernetes validates these as int32; bounding them here keeps derived Envoy durations valid.
const int32 = z.number().int().min(0).max(2_147_483_647);

export const HttpGetSchema = z.looseObject({
  path: z.string().optional(),
  port: z.union([z.number().int(), z.string()]),
  host: z.string().optional(),
  scheme: z.string().optional(),
  httpHeaders: z.array(z.looseObject({ name: z.string(), value: z.string() })).optional(),
});

export const ProbeSchema = z.looseObject({
  httpGet: HttpGetSchema.optional(),
  timeoutSeconds: int32.optional(),
});

export const ContainerSchema = z.looseObject({
  name: z.string().min(1),
  ports: z.array(z.looseObject({ containerPort: z.number().int(), name: z.string().optional() })).optional(),
  livenessProbe: ProbeSchema.optional(),
  readinessProbe: ProbeSchema.optional(),
  startupProbe: ProbeSchema.optional(),
});

export const PodSchema = z.looseObject({
  metadata: z
    .looseObject({
      name: z.string().optional(),
      generateName: z.string().optional(),
      namespace: z.string().optional(),
      labels: stringMap.optional(),
      annotations: stringMap.optional(),
    })
    .optional(),
  spec: z.looseObject({
    containers: z.array(ContainerSchema).min(1),
    initContainers: z.array(ContainerSchema).optional(),
    volumes: z.array(z.looseObject({ name: z.string() })).optional(),
    hostNetwork: z.boolean().optional(),
    serviceAccountName: z.string().optional(),
  }),
});

export type Pod = z.infer<typeof PodSchema>;
export type Container = z.infer<typeof ContainerSchema>;
export type Probe = z.infer<typeof ProbeSchema>;
