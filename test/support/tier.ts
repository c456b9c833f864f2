// The test tiers (docs/testing.md): vitest.config.ts runs each as a project and sets
// WEFT_TEST_TIER to its name. Unit tests may use only Node and this repository; integration
// tests may also start Envoy, gRPC clients and network namespaces; only e2e tests reach the
// Kubernetes harness (API server, node, Go-built tools). A test that reaches above its tier
// fails here, saying where it belongs, instead of starting the component (which is how
// `npm run test:unit` came to need an API server). Outside a project (a plain
// `vitest run <file>` with another config) nothing is refused.
export type Tier = 'unit' | 'integration' | 'e2e';

const rank: Readonly<Record<Tier, number>> = { unit: 0, integration: 1, e2e: 2 };

export function requireTier(what: string, needs: Exclude<Tier, 'unit'>): void {
  const current = process.env.WEFT_TEST_TIER as Tier | undefined;
  if (current === undefined || !(current in rank) || rank[current] >= rank[needs]) return;
  const where = needs === 'integration' ? 'name the file *.integration.test.ts' : 'put the file under e2e/';
  throw new Error(`${what} is not for ${current} tests: ${where} (docs/testing.md says which tier a test belongs to)`);
}
