// A real gRPC xDS client over our service definitions: sends requests like Envoy does
// (node on the first request, names repeated in every ACK) and queues responses so tests
// can assert each one whole, or that none arrives.
import { create, toJson, type MessageInitShape } from '@bufbuild/protobuf';
import { Client, credentials, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { NodeSchema, type Node } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  DeltaDiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { envoyRegistry } from '../../../xds/resources/registry.ts';
import { aggregatedDiscoveryService as ads } from '../../../xds/server/service-definitions.ts';

export function envoyNode(id: string, metadata: Record<string, unknown> = {}, userAgentName = 'envoy'): Node {
  return create(NodeSchema, { id, userAgentName, metadata: { WEFT_NAMESPACE: 'shop', ...metadata } as Node['metadata'] });
}

class StreamClient<Req, Res> {
  readonly status: Promise<StatusObject>;
  protected readonly call: ClientDuplexStream<Req, Res>;
  readonly #queue: Res[] = [];
  #waiter: (() => void) | undefined;

  constructor(call: ClientDuplexStream<Req, Res>) {
    this.call = call;
    call.on('data', (res: Res) => {
      this.#queue.push(res);
      this.#waiter?.();
    });
    call.on('error', () => {}); // surfaced through `status`
    this.status = new Promise((resolve) => call.on('status', resolve));
  }

  async next(timeoutMs = 3000): Promise<Res> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.#queue.shift()!;
  }

  /** Resolves if nothing arrives for `ms`; rejects with what arrived otherwise. */
  async silence(ms = 250): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.#queue.length > 0)
      throw new Error(
        `expected no response, got ${this.#queue.length}: ${JSON.stringify(this.#queue[0], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).slice(0, 300)}`,
      );
  }

  close(): void {
    this.call.cancel();
  }
}

export class SotwClient extends StreamClient<DiscoveryRequest, DiscoveryResponse> {
  readonly #node: Node;
  #sentNode = false;
  readonly #names = new Map<string, string[]>();
  readonly #acked = new Map<string, string>();

  constructor(client: Client, node: Node) {
    super(
      client.makeBidiStreamRequest(
        ads.StreamAggregatedResources.path,
        ads.StreamAggregatedResources.requestSerialize,
        ads.StreamAggregatedResources.responseDeserialize,
      ),
    );
    this.#node = node;
  }

  send(init: MessageInitShape<typeof DiscoveryRequestSchema>): void {
    const req = create(DiscoveryRequestSchema, init);
    if (!this.#sentNode) req.node = this.#node;
    this.#sentNode = true;
    this.call.write(req);
  }

  /** A subscription request (initial, or a change of names), at the last nonce seen. */
  request(typeUrl: string, names: string[] = [], responseNonce = ''): void {
    this.#names.set(typeUrl, names);
    this.send({ typeUrl, resourceNames: names, responseNonce, versionInfo: this.#acked.get(typeUrl) ?? '' });
  }

  ack(res: DiscoveryResponse): void {
    this.#acked.set(res.typeUrl, res.versionInfo);
    this.send({ typeUrl: res.typeUrl, resourceNames: this.#names.get(res.typeUrl) ?? [], versionInfo: res.versionInfo, responseNonce: res.nonce });
  }

  nack(res: DiscoveryResponse, message: string): void {
    this.send({
      typeUrl: res.typeUrl,
      resourceNames: this.#names.get(res.typeUrl) ?? [],
      versionInfo: this.#acked.get(res.typeUrl) ?? '',
      responseNonce: res.nonce,
      errorDetail: { code: 3, message },
    });
  }
}

export class DeltaClient extends StreamClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  readonly #node: Node;
  #sentNode = false;

  constructor(client: Client, node: Node) {
    const m = ads.DeltaAggregatedResources;
    super(client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize));
    this.#node = node;
  }

  send(init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>): void {
    const req = create(DeltaDiscoveryRequestSchema, init);
    if (!this.#sentNode) req.node = this.#node;
    this.#sentNode = true;
    this.call.write(req);
  }

  ack(res: DeltaDiscoveryResponse): void {
    this.send({ typeUrl: res.typeUrl, responseNonce: res.nonce });
  }

  nack(res: DeltaDiscoveryResponse, message: string): void {
    this.send({ typeUrl: res.typeUrl, responseNonce: res.nonce, errorDetail: { code: 3, message } });
  }
}

export function newGrpcClient(port: number): Client {
  return new Client(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
}

/** JSON of a response with resources expanded, for whole-message assertions. */
export function sotwJson(res: DiscoveryResponse): unknown {
  return toJson(DiscoveryResponseSchema, res, { registry: envoyRegistry });
}

export function deltaJson(res: DeltaDiscoveryResponse): unknown {
  return toJson(DeltaDiscoveryResponseSchema, res, { registry: envoyRegistry });
}
