// One simulated sidecar: an ADS State-of-the-World stream that subscribes the way Envoy
// does — CDS wildcard; EDS for the clusters' EDS names; once clusters are warm, LDS
// wildcard; RDS for the route configs the listeners name — and ACKs every response with
// the names it wants. It can be armed to note when it ACKs a new version of one type.
import { create } from '@bufbuild/protobuf';
import type { Client, ClientDuplexStream } from '@grpc/grpc-js';
import { NodeSchema, type Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { nowMs } from './protocol.ts';
import { CDS, EDS, edsNamesOf, firstRequestBytes, LDS, RDS, readResponse, requestBytes, routeNamesOf, type RawResponse } from './wire.ts';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const WILDCARD: readonly string[] = Object.freeze([]);
const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const asIs = (b: Buffer): Buffer => b;

interface TypeState {
  names: readonly string[];
  /** Last version ACKed ('' before the first). */
  version: string;
  nonce: string;
  requested: boolean;
}

export interface ProxySpec {
  readonly id: string;
  readonly namespace: string;
  readonly service: string;
}

export interface SimProxyHooks {
  onSynced(p: SimProxy): void;
  onArmedAck(p: SimProxy, at: number): void;
  onEnd(p: SimProxy, problem: string | undefined): void;
}

export function sidecarNode(spec: ProxySpec): Node {
  return create(NodeSchema, {
    id: spec.id,
    cluster: spec.service,
    userAgentName: 'envoy',
    metadata: { WEFT_NAMESPACE: spec.namespace, WEFT_SERVICE: spec.service, WEFT_PROXY_KIND: 'sidecar' } as Node['metadata'],
  });
}

export class SimProxy {
  readonly spec: ProxySpec;
  readonly #hooks: SimProxyHooks;
  readonly #types = new Map<string, TypeState>();
  #call: ClientDuplexStream<Uint8Array, Buffer> | undefined;
  #synced = false;
  #armed: { typeUrl: string; baseline: string } | undefined;
  #ended = false;

  constructor(spec: ProxySpec, hooks: SimProxyHooks) {
    this.spec = spec;
    this.#hooks = hooks;
    for (const t of [CDS, EDS, LDS, RDS]) this.#types.set(t, { names: WILDCARD, version: '', nonce: '', requested: false });
  }

  get synced(): boolean {
    return this.#synced;
  }

  start(client: Client): void {
    const call = client.makeBidiStreamRequest<Uint8Array, Buffer>(ADS_PATH, toBuffer, asIs);
    this.#call = call;
    call.on('data', (buf: Buffer) => this.#onResponse(readResponse(buf)));
    call.on('error', (err: Error) => this.#end(err.message));
    call.on('status', () => this.#end(undefined));
    this.#types.get(CDS)!.requested = true;
    call.write(firstRequestBytes(sidecarNode(this.spec), CDS));
  }

  /** Notes the next ACK of a version of `typeUrl` other than the one ACKed now. */
  arm(typeUrl: string): void {
    this.#armed = { typeUrl, baseline: this.#types.get(typeUrl)?.version ?? '' };
  }

  close(): void {
    this.#ended = true;
    this.#call?.cancel();
  }

  #end(problem: string | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hooks.onEnd(this, problem);
  }

  #send(typeUrl: string): void {
    const st = this.#types.get(typeUrl)!;
    st.requested = true;
    this.#call?.write(requestBytes(typeUrl, st.version, st.names, st.nonce));
  }

  /** Subscribes `typeUrl` to `names` if they changed (Envoy sends the new names at the last nonce). */
  #subscribe(typeUrl: string, names: readonly string[]): void {
    const st = this.#types.get(typeUrl)!;
    if (st.requested && st.names === names) return;
    st.names = names;
    this.#send(typeUrl);
  }

  #onResponse(res: RawResponse): void {
    const st = this.#types.get(res.typeUrl);
    if (st === undefined) return;
    st.nonce = res.nonce;
    // Envoy asks for what a response makes it need before it ACKs that response.
    if (res.typeUrl === CDS) this.#subscribe(EDS, edsNamesOf(res));
    if (res.typeUrl === LDS) this.#subscribe(RDS, routeNamesOf(res));
    st.version = res.versionInfo;
    this.#send(res.typeUrl);
    // Clusters are warm once their endpoints arrived: only then does Envoy ask for listeners.
    if (res.typeUrl === EDS && !this.#types.get(LDS)!.requested) this.#send(LDS);

    const armed = this.#armed;
    if (armed !== undefined && armed.typeUrl === res.typeUrl && res.versionInfo !== armed.baseline) {
      this.#armed = undefined;
      this.#hooks.onArmedAck(this, nowMs());
    }
    if (!this.#synced && [...this.#types.values()].every((t) => t.version !== '')) {
      this.#synced = true;
      this.#hooks.onSynced(this);
    }
  }
}
