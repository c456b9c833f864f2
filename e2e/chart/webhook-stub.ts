// A stand-in for the control plane's admission webhook: an HTTPS server on 127.0.0.1
// with its own throwaway CA (openssl) that records every AdmissionReview the API server
// sends and allows it; /inject adds one annotation so a test can see its patch applied.
// It proves the chart's external mode (webhooks by URL + caBundle) end to end without
// depending on the controller.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STUB_ANNOTATION = 'weft.dev/e2e-stub';

export interface Admission {
  readonly path: string;
  readonly kind: string;
  readonly namespace: string;
  readonly operation: string;
}

export interface WebhookStub {
  readonly url: string;
  /** PEM of the CA that signed the server certificate (the chart's caBundle). */
  readonly caPem: string;
  readonly seen: Admission[];
  close(): Promise<void>;
}

function certificates(): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-stub-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=weft-e2e-stub-ca');
    ssl('req', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=127.0.0.1');
    ssl('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '1', '-extfile', 'ext.cnf');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.crt'), cert: read('tls.crt'), key: read('tls.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Review {
  request?: { uid?: string; kind?: { kind?: string }; namespace?: string; operation?: string; object?: { metadata?: { annotations?: unknown } } };
}

export async function startWebhookStub(): Promise<WebhookStub> {
  const { ca, cert, key } = certificates();
  const seen: Admission[] = [];
  const server = createServer({ cert, key }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const review = JSON.parse(body) as Review;
      const r = review.request ?? {};
      const path = (req.url ?? '').split('?')[0] ?? '';
      seen.push({ path, kind: r.kind?.kind ?? '', namespace: r.namespace ?? '', operation: r.operation ?? '' });
      const response: Record<string, unknown> = { uid: r.uid, allowed: true };
      if (path === '/inject') {
        const hasAnnotations = typeof r.object?.metadata?.annotations === 'object';
        const patch = hasAnnotations
          ? [{ op: 'add', path: `/metadata/annotations/${STUB_ANNOTATION.replace('/', '~1')}`, value: 'seen' }]
          : [{ op: 'add', path: '/metadata/annotations', value: { [STUB_ANNOTATION]: 'seen' } }];
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: ca,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the API server keeps connections alive
      }),
  };
}
