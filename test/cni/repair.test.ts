import { describe, expect, it } from 'vitest';
import { needsRepair, type RepairPod } from '../../src/runtime/cni/repair.ts';

const pod = (over: Partial<RepairPod['metadata']>, exit?: { state?: number; last?: number }): RepairPod => ({
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u', annotations: { 'weft.dev/capture': '{}' }, ...over },
  status: {
    initContainerStatuses: [
      {
        name: 'weft-validation',
        ...(exit?.state !== undefined ? { state: { terminated: { exitCode: exit.state } } } : {}),
        ...(exit?.last !== undefined ? { lastState: { terminated: { exitCode: exit.last } } } : {}),
      },
    ],
  },
});

describe('repair: which Pods need a new sandbox', () => {
  it('a meshed Pod whose weft-validation found no capture (now or before a restart)', () => {
    expect(needsRepair(pod({}, { state: 42 }))).toBe(true);
    expect(needsRepair(pod({}, { last: 42 }))).toBe(true);
  });
  it('not a Pod that validated, failed otherwise, is deleting, or is not meshed in CNI mode', () => {
    expect(needsRepair(pod({}, { state: 0 }))).toBe(false);
    expect(needsRepair(pod({}, { state: 137 }))).toBe(false);
    expect(needsRepair(pod({}))).toBe(false);
    expect(needsRepair(pod({ deletionTimestamp: '2026-01-01T00:00:00Z' }, { state: 42 }))).toBe(false);
    expect(needsRepair(pod({ annotations: {} }, { state: 42 }))).toBe(false);
  });
});
