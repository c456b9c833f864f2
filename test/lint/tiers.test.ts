// The test tiers are enforced (docs/testing.md): a unit file that reaches for Envoy, network
// namespaces or the Kubernetes harness fails at once, naming where it belongs, instead of
// starting them; an integration file may start Envoy but not the API server.
import { describe, expect, it, vi } from 'vitest';
import { cluster, tools } from '../../e2e/support/kube.ts';
import { createTopology } from '../capture/support.ts';
import { envoyBinary } from '../support/envoy-binary.ts';
import { requireTier } from '../support/tier.ts';

describe('test tiers', () => {
  it('runs this file in the unit tier', () => {
    expect(process.env.WEFT_TEST_TIER).toBe('unit');
  });

  it('refuses Envoy, network namespaces and the Kubernetes harness to unit tests', async () => {
    expect(() => envoyBinary()).toThrow(/Envoy is not for unit tests: name the file \*\.integration\.test\.ts/);
    await expect(createTopology()).rejects.toThrow(/Network namespaces is not for unit tests/);
    expect(() => cluster()).toThrow(/API server is not for unit tests: put the file under e2e\//);
    expect(() => tools()).toThrow(/kubectl and helm .* not for unit tests/);
  });

  it('lets each tier use what the tiers below it may not', () => {
    vi.stubEnv('WEFT_TEST_TIER', 'integration');
    expect(() => requireTier('Envoy', 'integration')).not.toThrow();
    expect(() => requireTier('The Kubernetes API server', 'e2e')).toThrow(/not for integration tests: put the file under e2e\//);
    vi.stubEnv('WEFT_TEST_TIER', 'e2e');
    expect(() => requireTier('The Kubernetes API server', 'e2e')).not.toThrow();
  });
});
