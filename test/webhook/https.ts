// A tiny HTTPS JSON client over a caller's keep-alive agent (the fuzz test sends thousands).
import { request as httpsRequest, type Agent } from 'node:https';

/** POSTs `body` as application/json; the reply body is parsed as JSON when it is JSON. */
export async function post(port: number, path: string, body: string, agentToUse: Agent): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: agentToUse, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {
          /* non-JSON bodies are kept as text */
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
