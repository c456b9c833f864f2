// The admission webhook over HTTPS (fastify). /inject mutates Pods, /validate delegates to the
// caller's validator, /healthz answers liveness. Malformed input gets HTTP 400 naming the
// field; nothing a client sends produces a 5xx or stops the process. The TLS certificate can
// be swapped at runtime (rotation) without dropping the listener.
import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { log } from '../src/base/log.ts';
import { defaultListenerTimeouts, fastifyTimeouts, nodeServerTimeouts, type ListenerTimeouts } from '../src/base/listener-timeouts.ts';
import { handleInject, parseReview, review, type Validator } from './admission.ts';
import type { InjectContext } from './inject.ts';
import { admissions, admissionSeconds } from './metrics.ts';
import { errorMessage } from '../src/base/errors.ts';

const wlog = log.child({ component: 'webhook' });

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

export interface WebhookServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly tls: TlsMaterial;
  /**
   * Called per request with the pod's namespace: values and the namespace cache as they are
   * now (the CA bundle may rotate). May be async for the rare cache miss (a namespace created
   * milliseconds before its first pod); the hot path answers synchronously from the cache.
   */
  readonly injectCtx: (namespace: string) => InjectContext | Promise<InjectContext>;
  readonly validate: Validator;
  /** Largest accepted body; the API server's objects are at most ~1.5 MiB, plus oldObject. */
  readonly bodyLimit?: number;
  /** Handshake, request and idle bounds (defaults: src/base/listener-timeouts.ts). */
  readonly timeouts?: ListenerTimeouts;
}

export interface WebhookServer {
  readonly port: number;
  /** Replaces the serving certificate for new connections. */
  setTls(tls: TlsMaterial): void;
  close(): Promise<void>;
}

/** The routes on a fastify instance, not yet listening (HTTPS when `tls` is given; tests may inject() into a plain one). */
export function buildWebhookApp(opts: Omit<WebhookServerOptions, 'port' | 'host' | 'tls'> & { tls?: TlsMaterial }): FastifyInstance<RawServerDefault> {
  const timeouts = opts.timeouts ?? defaultListenerTimeouts;
  const app = fastify({
    ...(opts.tls
      ? { https: { cert: opts.tls.cert, key: opts.tls.key, ...nodeServerTimeouts(timeouts, true) } }
      : { http: nodeServerTimeouts(timeouts, false) }),
    bodyLimit: opts.bodyLimit ?? 3 * 1024 * 1024,
    logger: false,
    // The API server keeps connections open between admissions (idleMs); a request it sends is
    // answered within its own timeout (at most 30 s), so one that has not arrived by requestMs never will.
    ...fastifyTimeouts(timeouts),
  });

  // Body parse errors (truncated JSON, wrong content type, too large) arrive here as 4xx; any
  // other error is a bug on our side — still answered as a 400-class "can't process", logged.
  app.setErrorHandler((err: { statusCode?: number; message: string; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    if (!err.statusCode || err.statusCode >= 500) wlog.error({ err: err.message, url: req.url }, 'webhook handler error');
    admissions.inc({ endpoint: endpointOf(req.url), result: 'invalid', reason: err.code ?? 'body' });
    void reply.code(status).send({ error: err.message });
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.post('/inject', async (req, reply) => {
    const done = admissionSeconds.startTimer({ endpoint: 'inject' });
    try {
      const parsed = parseReview(req.body);
      if (!parsed.ok) return badRequest(reply, 'inject', parsed.reason, parsed.uid);
      const r = parsed.request;
      const fields = { uid: r.uid, namespace: r.namespace, name: r.name, dryRun: r.dryRun === true };
      let outcome;
      try {
        outcome = handleInject(r, await opts.injectCtx(r.namespace ?? ''));
      } catch (err) {
        // A bug must not block every pod in the cluster: admit unchanged, say so loudly.
        wlog.error({ ...fields, err: errorMessage(err) }, 'injection failed');
        admissions.inc({ endpoint: 'inject', result: 'error', reason: 'internal' });
        return review({ uid: r.uid, allowed: true, warnings: ['weft: sidecar injection failed internally; the pod was admitted without the mesh'] });
      }
      if (outcome.result === 'invalid') {
        wlog.info({ ...fields, reason: outcome.reason }, 'pod rejected as malformed');
        admissions.inc({ endpoint: 'inject', result: 'invalid', reason: 'pod' });
        return reply.code(400).send(review(outcome.response));
      }
      if (outcome.result === 'denied') {
        wlog.warn({ ...fields, reason: outcome.reason, message: outcome.message }, 'pod denied');
        admissions.inc({ endpoint: 'inject', result: 'denied', reason: outcome.reason });
      } else if (outcome.result === 'skipped') {
        wlog.info({ ...fields, reason: outcome.reason, message: outcome.message }, 'injection skipped');
        admissions.inc({ endpoint: 'inject', result: 'skipped', reason: outcome.reason });
      } else {
        wlog.info({ ...fields, ops: outcome.patchOps, warnings: outcome.response.warnings?.length ?? 0 }, 'pod injected');
        admissions.inc({ endpoint: 'inject', result: 'injected', reason: '' });
      }
      return review(outcome.response);
    } finally {
      done();
    }
  });

  app.post('/validate', async (req, reply) => {
    const done = admissionSeconds.startTimer({ endpoint: 'validate' });
    try {
      const parsed = parseReview(req.body);
      if (!parsed.ok) return badRequest(reply, 'validate', parsed.reason, parsed.uid);
      const r = parsed.request;
      let verdict;
      try {
        verdict = await opts.validate(r);
      } catch (err) {
        wlog.error({ uid: r.uid, err: errorMessage(err) }, 'validator failed');
        admissions.inc({ endpoint: 'validate', result: 'error', reason: 'internal' });
        return review({ uid: r.uid, allowed: false, status: { code: 500, message: 'weft: validation failed internally; retry' } });
      }
      admissions.inc({ endpoint: 'validate', result: verdict.allowed ? 'allowed' : 'denied', reason: '' });
      if (verdict.allowed) return review({ uid: r.uid, allowed: true, ...(verdict.warnings?.length ? { warnings: verdict.warnings } : {}) });
      wlog.info({ uid: r.uid, kind: r.kind.kind, name: r.name, namespace: r.namespace, message: verdict.message }, 'object denied');
      return review({ uid: r.uid, allowed: false, status: { code: 422, message: verdict.message } });
    } finally {
      done();
    }
  });

  return app as unknown as FastifyInstance<RawServerDefault>;
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const app = buildWebhookApp(opts);
  await app.listen({ port: opts.port, host: opts.host ?? '0.0.0.0' });
  const server = app.server as unknown as TlsServer;
  const port = (server.address() as AddressInfo).port;
  wlog.info({ port }, 'webhook listening');
  return {
    port,
    setTls(tls) {
      server.setSecureContext({ cert: tls.cert, key: tls.key });
      wlog.info({}, 'webhook serving certificate replaced');
    },
    async close() {
      await app.close();
    },
  };
}

function badRequest(reply: FastifyReply, endpoint: string, reason: string, uid: string | undefined) {
  admissions.inc({ endpoint, result: 'invalid', reason: 'review' });
  wlog.info({ uid, reason }, 'malformed admission review');
  return reply.code(400).send(review({ uid: uid ?? '', allowed: false, status: { code: 400, message: reason } }));
}

function endpointOf(url: FastifyRequest['url']): string {
  return url.startsWith('/inject') ? 'inject' : url.startsWith('/validate') ? 'validate' : 'other';
}
