// The mesh view's page in a real browser (Debian's chromium, driven by playwright-core):
// weft serve, a real Envoy carrying traffic through the 90/10 TrafficSplit; the page must
// draw the services and edges, then show the split change after trafficsplit.yaml is edited.
// Screenshots go to test-output/mesh-view/ (git-ignored).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUT_URL, startMeshWithEnvoy, type MeshEnvoy } from '../support/mesh-envoy.ts';
import { emptyLoadResult, sendThroughProxy, type LoadResult } from '../support/proxy-load.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = join(root, 'test-output/mesh-view');

/** The browser's path (scripts/install-chromium.sh installs it with apt when absent); undefined if it cannot. */
function chromiumPath(): string | undefined {
  try {
    return (
      execFileSync('bash', [join(root, 'scripts/install-chromium.sh')], { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

const executablePath = chromiumPath();

describe.skipIf(executablePath === undefined)('mesh view page in chromium', () => {
  let h: MeshEnvoy;
  let browser: Browser;
  let page: Page;
  const stop = new AbortController();
  let load: Promise<LoadResult>;

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    h = await startMeshWithEnvoy({ statsOnAdmin: true, weftArgs: ['--mesh-view-scrape-interval', '1s'] });
    load = sendThroughProxy({
      proxyPort: h.outboundPort,
      url: CHECKOUT_URL,
      requests: Infinity,
      maxRps: 50,
      signal: stop.signal,
      into: emptyLoadResult(),
      concurrency: 2,
    });
    // Root needs --no-sandbox; the page is ours and loopback only.
    browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 180_000);
  afterAll(async () => {
    stop.abort();
    await load;
    await browser?.close();
    await h?.stop();
  });

  const edge = (kind: string, dest: string, extra = ''): string => `g.edge[data-kind="${kind}"][data-destination="${dest}"]${extra}`;

  it('draws the services, the traffic edges with live rates and the split as programmed', { timeout: 60_000 }, async () => {
    await page.goto(`${h.weft.monitoringUrl}/mesh/`);
    for (const id of ['shop/e2e-client', 'shop/checkout', 'shop/checkout-v1', 'shop/checkout-v2']) {
      await page.waitForSelector(`g.node[data-id="${id}"]`, { timeout: 30_000 });
    }
    await page.waitForSelector(edge('split', 'shop/checkout-v1', '[data-weight="90"]'));
    await page.waitForSelector(edge('split', 'shop/checkout-v2', '[data-weight="10"]'));
    // Rates appear after the second scrape.
    // The caller's traffic to the split's backends is drawn into the split's root.
    const into = edge('traffic', 'shop/checkout', '[data-source="shop/e2e-client"]');
    await expect.poll(async () => Number(await page.getAttribute(into, 'data-rate')), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getAttribute(into, 'data-via'), { timeout: 30_000 }).toBe('shop/checkout-v1 shop/checkout-v2');
    const label = await page.textContent(into + ' text');
    expect(label).toMatch(/\/s · 100\.0% okp99 .+ · plaintext/);
    expect(await page.locator('#proxies tr[data-id]').count()).toBe(1);
    await page.screenshot({ path: join(outDir, 'split-90-10.png'), fullPage: true });
  });

  it('shows the split change after an edit of trafficsplit.yaml', { timeout: 60_000 }, async () => {
    const text = await h.mesh.read('trafficsplit.yaml');
    await h.mesh.write('trafficsplit.yaml', text.replace(/weight:\s*90\b/, 'weight: 30').replace(/weight:\s*10\b/, 'weight: 70'));
    await page.waitForSelector(edge('split', 'shop/checkout-v2', '[data-weight="70"]'), { timeout: 30_000 });
    await page.waitForSelector(edge('split', 'shop/checkout-v1', '[data-weight="30"]'));
    // The observed share follows once a scrape window holds only traffic under the new weights.
    await expect.poll(async () => Number(await page.getAttribute(edge('split', 'shop/checkout-v2'), 'data-share')), { timeout: 30_000 }).toBeGreaterThan(50);
    await page.screenshot({ path: join(outDir, 'split-30-70.png'), fullPage: true });
    console.log(`[mesh-view page] screenshots in ${outDir}`);
  });
});
