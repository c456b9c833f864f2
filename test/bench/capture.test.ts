// The peer benchmark feeds go-control-plane what Weft serves each proxy group: the capture
// must hold every group, every type, and follow the mutations (bench/support/capture.ts).
import { fromBinary } from '@bufbuild/protobuf';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { captureStates } from '../../bench/support/capture.ts';
import { DiscoveryResponseSchema } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const read = (dir: string, v: number, group: string, file: string) => fromBinary(DiscoveryResponseSchema, readFileSync(join(dir, `v${v}`, group, file)));

describe('peer capture', () => {
  it("writes each group's resources per state; a split flip changes only routes, an endpoint add only endpoints", () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-capture-'));
    dirs.push(dir);
    captureStates({ namespaces: 2, servicesPerNamespace: 4, endpointsPerService: 2 }, ['split', 'endpoints'], dir);
    expect(readdirSync(join(dir, 'v0')).sort()).toEqual([
      'ns-00_svc-0',
      'ns-00_svc-1',
      'ns-00_svc-2',
      'ns-00_svc-3',
      'ns-01_svc-0',
      'ns-01_svc-1',
      'ns-01_svc-2',
      'ns-01_svc-3',
    ]);
    const g = 'ns-01_svc-2';
    for (const f of ['cds.pb', 'eds.pb', 'lds.pb', 'rds.pb']) expect(read(dir, 0, g, f).resources.length).toBeGreaterThan(0);
    const changed = (a: number, b: number) =>
      ['cds.pb', 'eds.pb', 'lds.pb', 'rds.pb'].filter((f) => read(dir, a, g, f).versionInfo !== read(dir, b, g, f).versionInfo);
    expect(changed(0, 1)).toEqual(['rds.pb']);
    expect(changed(1, 2)).toEqual(['eds.pb']);
  });
});
