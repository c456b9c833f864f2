// The leader keeps every webhook's clientConfig.caBundle in this release's two webhook
// configurations equal to the CA's trust bundle: on start, on becoming leader, whenever a
// watch on either configuration reports a change (someone blanked or replaced it: restored
// within about a second), and every `intervalMs` as a safety net. Level-triggered: each pass
// reads the objects as they are now and patches only webhooks whose bundle differs, with a
// JSON-patch `test` on each webhook's name so a concurrent edit that reorders them fails the
// patch instead of writing the wrong entry (the next pass retries).
import { HttpMethod } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { KubeApiError, type KubeClient } from '../../k8s/client.ts';
import type { Logger } from '../../base/log.ts';
import { metricsRegistry } from '../../base/metrics.ts';
import { systemClock, type Clock } from '../../base/clock.ts';
import { ReconcileLoop } from '../../base/reconcile-loop.ts';
import { errorMessage } from '../../base/errors.ts';

export type WebhookConfigurationKind = 'mutating' | 'validating';

export interface WebhookConfigurationRef {
  readonly kind: WebhookConfigurationKind;
  readonly name: string;
}

const patches = new Counter({
  name: 'weft_cabundle_patches_total',
  help: 'caBundle patches of the webhook configurations by the leader, by configuration and result.',
  labelNames: ['configuration', 'result'] as const,
  registers: [metricsRegistry],
});

const WebhookConfigurationSchema = z.object({
  metadata: z.object({ name: z.string() }),
  webhooks: z.array(z.object({ name: z.string(), clientConfig: z.object({ caBundle: z.string().optional() }).loose() }).loose()).optional(),
});

export function configurationPath(ref: WebhookConfigurationRef, name?: string): string {
  const plural = ref.kind === 'mutating' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations';
  return `/apis/admissionregistration.k8s.io/v1/${plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

interface JsonPatchOp {
  readonly op: 'test' | 'add';
  readonly path: string;
  readonly value: string;
}

/** The JSON patch that sets every webhook's caBundle to `bundleB64`; empty when all already match. Pure. */
export function caBundlePatch(raw: unknown, bundleB64: string): JsonPatchOp[] | { invalid: string } {
  const r = WebhookConfigurationSchema.safeParse(raw);
  if (!r.success) return { invalid: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const ops: JsonPatchOp[] = [];
  (r.data.webhooks ?? []).forEach((w, i) => {
    if (w.clientConfig.caBundle === bundleB64) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: w.name });
    // `add` on an object member replaces it when present: one op for blank, missing or stale.
    ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundleB64 });
  });
  return ops;
}

export interface CaBundleReconcilerOptions {
  readonly client: KubeClient;
  readonly configurations: readonly WebhookConfigurationRef[];
  /** PEM trust bundle, read at every pass (the CA may rotate its roots). */
  readonly bundlePem: () => string;
  readonly isLeader: () => boolean;
  /** Periodic pass (default 10 s). */
  readonly intervalMs?: number;
  /** Watch the configurations to restore a change at once (default true). */
  readonly watch?: boolean;
  /** Time for the period, the watch backoff and the status timestamps (default: the system clock). */
  readonly clock?: Clock;
  readonly log: Logger;
}

export interface CaBundleStatus {
  readonly lastPass?: string;
  readonly lastPatch?: string;
  readonly patches: number;
  readonly lastError?: string;
}

export class CaBundleReconciler {
  readonly #o: CaBundleReconcilerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #stop = new AbortController();
  readonly #loop: ReconcileLoop;
  #status: { lastPass?: string; lastPatch?: string; patches: number; lastError?: string } = { patches: 0 };
  readonly #missing = new Set<string>();

  constructor(opts: CaBundleReconcilerOptions) {
    this.#o = opts;
    this.#log = opts.log.child({ component: 'cabundle' });
    this.#clock = opts.clock ?? systemClock;
    this.#loop = new ReconcileLoop({
      pass: async () => {
        if (this.#o.isLeader()) await this.#pass();
      },
      onError: (err) => this.#log.error({ err }, 'caBundle pass failed'),
      intervalMs: opts.intervalMs ?? 10_000,
      clock: this.#clock,
    });
  }

  start(): void {
    this.#loop.start();
    if (this.#o.watch ?? true) for (const ref of this.#o.configurations) void this.#watchLoop(ref);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop.stop();
  }

  status(): CaBundleStatus {
    return { ...this.#status };
  }

  /** Runs a pass now (coalesced with one already running); a no-op unless leader. */
  trigger(): Promise<void> {
    return this.#loop.trigger();
  }

  async #pass(): Promise<void> {
    const bundle = Buffer.from(this.#o.bundlePem(), 'utf8').toString('base64');
    for (const ref of this.#o.configurations) {
      try {
        await this.#reconcile(ref, bundle);
      } catch (err) {
        const message = errorMessage(err);
        this.#status.lastError = `${ref.name}: ${message}`;
        patches.inc({ configuration: ref.name, result: 'error' });
        this.#log.warn({ configuration: ref.name, kind: ref.kind, err: message }, 'caBundle reconcile failed; retrying on the next pass');
      }
    }
    this.#status.lastPass = new Date(this.#clock.now()).toISOString();
  }

  async #reconcile(ref: WebhookConfigurationRef, bundle: string): Promise<void> {
    let current: unknown;
    try {
      current = await this.#o.client.request(HttpMethod.GET, configurationPath(ref, ref.name), { signal: this.#stop.signal });
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) {
        if (!this.#missing.has(ref.name))
          this.#log.warn({ configuration: ref.name, kind: ref.kind }, 'webhook configuration not found; nothing to keep current');
        this.#missing.add(ref.name);
        return;
      }
      throw err;
    }
    this.#missing.delete(ref.name);
    const ops = caBundlePatch(current, bundle);
    if ('invalid' in ops) throw new Error(`unexpected webhook configuration: ${ops.invalid}`);
    if (ops.length === 0) return;
    await this.#o.client.request(HttpMethod.PATCH, configurationPath(ref, ref.name), {
      body: ops,
      contentType: 'application/json-patch+json',
      signal: this.#stop.signal,
    });
    this.#status.patches++;
    this.#status.lastPatch = new Date(this.#clock.now()).toISOString();
    patches.inc({ configuration: ref.name, result: 'patched' });
    this.#log.info({ configuration: ref.name, kind: ref.kind, webhooks: ops.length / 2 }, 'webhook caBundle restored');
  }

  /** Any event on the configuration (including our own patch, which then finds nothing to do) triggers a pass. */
  async #watchLoop(ref: WebhookConfigurationRef): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      const started = this.#clock.monotonic();
      try {
        const stream = await this.#o.client.stream(configurationPath(ref), {
          query: { watch: 1, fieldSelector: `metadata.name=${ref.name}`, timeoutSeconds: 300 + Math.floor(Math.random() * 300) },
          signal,
        });
        try {
          const decoder = new TextDecoder();
          let buf = '';
          for await (const chunk of stream.body) {
            buf += decoder.decode(chunk, { stream: true });
            if (!buf.includes('\n')) continue;
            buf = buf.slice(buf.lastIndexOf('\n') + 1);
            void this.trigger();
          }
        } finally {
          stream.close();
        }
        // A watch the server ended after a while is healthy; one that ends at once backs off.
        failures = this.#clock.monotonic() - started > 1_000 ? 0 : failures + 1;
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        this.#log.debug({ configuration: ref.name, err: errorMessage(err) }, 'caBundle watch failed; the periodic pass still runs');
      }
      if (failures > 0) await this.#clock.sleep(Math.min(500 * 2 ** failures, 30_000), signal).catch(() => {});
    }
  }
}
