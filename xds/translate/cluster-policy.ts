// Cluster-level resilience: circuit-breaker limits, the RetryPolicy's retry budget and
// outlier detection, and the BackendPolicy's connection-pool limits (backend-policy.ts says
// which policy owns which field).
//
// Envoy's default thresholds (1024 connections/pending/requests, 3 concurrent retries per
// cluster) silently cap a mesh: with 8 requests in flight and 30 % failures, retries
// overflow and a RetryPolicy of 3 attempts no longer delivers. Every cluster therefore
// lifts those limits (as Istio does); a RetryPolicy budget is then the only retry limit.
//
// Which policy shapes a cluster: the service's own RetryPolicy; where it is silent, that
// of the first service (by namespace/name) whose TrafficSplit sends traffic to it — split
// traffic and its retries land on the backends' clusters, not the root's. Model inputs:
// services[].retry (budget, outlierDetection) and services[].split.backends.
import { create } from '@bufbuild/protobuf';
import { CircuitBreakersSchema, type CircuitBreakers } from '../gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { OutlierDetectionSchema, type OutlierDetection } from '../gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { RoutingPriority } from '../gen/envoy/config/core/v3/base_pb.js';
import type { MeshModel, ObjectKey, ResolvedBackend, ResolvedRetry } from '../../src/model/types.ts';
import { duration } from './common.ts';
import { memoByModel } from './memo.ts';
import { sortedServices } from './model-view.ts';

/** The largest uint32: "no limit" for Envoy's circuit-breaker thresholds. */
export const UNLIMITED = 0xffff_ffff;

export interface ClusterResilience {
  readonly budget?: ResolvedRetry['budget'];
  readonly outlierDetection?: ResolvedRetry['outlierDetection'];
}

/** Resilience settings per service key, own policy first, then inherited from split roots. */
export const clusterResilience = memoByModel((model: MeshModel): ReadonlyMap<ObjectKey, ClusterResilience> => {
  const out = new Map<ObjectKey, ClusterResilience>();
  const services = sortedServices(model);
  for (const svc of services) {
    const own = svc.retry;
    out.set(`${svc.namespace}/${svc.name}`, {
      ...(own?.budget ? { budget: own.budget } : {}),
      ...(own?.outlierDetection ? { outlierDetection: own.outlierDetection } : {}),
    });
  }
  for (const root of services) {
    const policy = root.retry;
    if (!root.split || !policy) continue;
    for (const b of root.split.backends) {
      const key: ObjectKey = `${root.namespace}/${b.service}`;
      const current = out.get(key);
      if (!current || b.service === root.name) continue;
      out.set(key, {
        ...((current.budget ?? policy.budget) ? { budget: current.budget ?? policy.budget } : {}),
        ...((current.outlierDetection ?? policy.outlierDetection) ? { outlierDetection: current.outlierDetection ?? policy.outlierDetection } : {}),
      });
    }
  }
  return out;
});

/**
 * DEFAULT-priority thresholds: a BackendPolicy's pool limits, no limit where it sets none;
 * with a retry budget, the budget replaces max_retries.
 */
export function circuitBreakers(budget?: ResolvedRetry['budget'], pool: ResolvedBackend['connectionPool'] = {}): CircuitBreakers {
  return create(CircuitBreakersSchema, {
    thresholds: [
      {
        priority: RoutingPriority.DEFAULT,
        maxConnections: pool.maxConnections ?? UNLIMITED,
        maxPendingRequests: pool.maxPendingRequests ?? UNLIMITED,
        maxRequests: pool.maxRequests ?? UNLIMITED,
        maxRetries: UNLIMITED,
        ...(budget ? { retryBudget: { budgetPercent: { value: budget.percent }, minRetryConcurrency: budget.minRetryConcurrency } } : {}),
      },
    ],
  });
}

/**
 * Consecutive-5xx ejection. Success-rate ejection is on by default in Envoy; the policy
 * does not ask for it, so it is switched off explicitly.
 */
export function outlierDetection(od: NonNullable<ResolvedRetry['outlierDetection']>): OutlierDetection {
  return create(OutlierDetectionSchema, {
    consecutive5xx: od.consecutive5xxErrors,
    interval: duration(od.intervalMs),
    baseEjectionTime: duration(od.baseEjectionTimeMs),
    maxEjectionPercent: od.maxEjectionPercent,
    enforcingConsecutive5xx: 100,
    enforcingSuccessRate: 0,
  });
}
