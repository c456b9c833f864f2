// The mesh view's scraping bounds and the debug API's listener and access, as flags shared by
// `weft serve` and `weft controller` (docs/mesh-view.md).
import { z } from 'zod';
import { DEFAULT_SCRAPE } from '../meshview/scraper.ts';
import type { ScrapeSettings } from '../meshview/view.ts';
import { duration } from './flag-values.ts';
import type { FlagValues } from './flags.ts';

const SECTION = 'Mesh view (/mesh/) and debug API (/debug/*), docs/mesh-view.md';

const count = z
  .string()
  .regex(/^\d+$/, 'must be a positive integer')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n) && n >= 1 && n <= 256, 'must be 1-256');

export const meshViewFlags = {
  'mesh-view-scrape-interval': {
    kind: 'value',
    value: 'DURATION',
    help: "how often the proxies' stats are scraped while someone watches the view",
    default: `${DEFAULT_SCRAPE.intervalMs / 1000}s`,
    section: SECTION,
    schema: duration({ ms: 500, text: '500ms' }),
  },
  'mesh-view-scrape-timeout': {
    kind: 'value',
    value: 'DURATION',
    help: "one proxy's scrape",
    default: `${DEFAULT_SCRAPE.timeoutMs / 1000}s`,
    section: SECTION,
    schema: duration({ ms: 100, text: '100ms' }),
  },
  'mesh-view-scrape-concurrency': {
    kind: 'value',
    value: 'N',
    help: 'scrapes in flight at once',
    default: String(DEFAULT_SCRAPE.concurrency),
    section: SECTION,
    schema: count,
  },
} as const;

export function scrapeSettingsFrom(v: FlagValues<typeof meshViewFlags>): ScrapeSettings {
  return {
    intervalMs: v['mesh-view-scrape-interval'],
    timeoutMs: Math.min(v['mesh-view-scrape-timeout'], v['mesh-view-scrape-interval']),
    concurrency: v['mesh-view-scrape-concurrency'],
  };
}
