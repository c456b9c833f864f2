// grpc-js service definitions for ADS and SDS over protobuf-es messages. Responses may be
// handed over pre-encoded (EncodedMessage): the server encodes a response body once per
// proxy group and only appends the per-stream nonce (see responses.ts).
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest } from './request-decode.ts';

/** A message already serialized to its wire form. */
export interface EncodedMessage {
  readonly encoded: Uint8Array;
  /** The same bytes inside their gRPC frame (header + `encoded`), written as is when given. */
  readonly framed?: Buffer;
}

function isEncoded(value: object): value is EncodedMessage {
  return 'encoded' in value && value.encoded instanceof Uint8Array;
}

function serializer<Desc extends DescMessage>(schema: Desc) {
  return (value: MessageShape<Desc> | EncodedMessage): Buffer => {
    const bytes = isEncoded(value) ? value.encoded : toBinary(schema, value as MessageShape<Desc>);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * Throws on malformed input; grpc-js catches deserializer errors and ends only that call
 * (status INTERNAL), so a bad peer cannot crash the process. test/xds-server covers it.
 */
function deserializer<Desc extends DescMessage>(schema: Desc) {
  // SotW and Delta requests, mostly ACKs, take the short path (request-decode.ts).
  if (schema === (DiscoveryRequestSchema as DescMessage)) return decodeDiscoveryRequest as unknown as (bytes: Buffer) => MessageShape<Desc>;
  if (schema === (DeltaDiscoveryRequestSchema as DescMessage)) return decodeDeltaDiscoveryRequest as unknown as (bytes: Buffer) => MessageShape<Desc>;
  return (bytes: Buffer): MessageShape<Desc> => fromBinary(schema, bytes);
}

/** grpc-js's MethodDefinition, except the server may also write EncodedMessage responses. */
export interface Method<Req, Res, Stream extends boolean> {
  readonly path: string;
  readonly requestStream: Stream;
  readonly responseStream: Stream;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Req;
  readonly responseSerialize: (value: Res | EncodedMessage) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
  readonly originalName: string;
}

function method<ReqDesc extends DescMessage, ResDesc extends DescMessage, Stream extends boolean>(
  path: string,
  stream: Stream,
  req: ReqDesc,
  res: ResDesc,
): Method<MessageShape<ReqDesc>, MessageShape<ResDesc>, Stream> {
  return {
    path,
    requestStream: stream,
    responseStream: stream,
    requestSerialize: serializer(req),
    requestDeserialize: deserializer(req),
    responseSerialize: serializer(res),
    responseDeserialize: deserializer(res),
    originalName: path.slice(path.lastIndexOf('/') + 1),
  };
}

export type SotwMethod = Method<DiscoveryRequest, DiscoveryResponse, true>;
export type DeltaMethod = Method<DeltaDiscoveryRequest, DeltaDiscoveryResponse, true>;
export type FetchMethod = Method<DiscoveryRequest, DiscoveryResponse, false>;

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService';
const SDS = '/envoy.service.secret.v3.SecretDiscoveryService';

export const aggregatedDiscoveryService = {
  StreamAggregatedResources: method(`${ADS}/StreamAggregatedResources`, true, DiscoveryRequestSchema, DiscoveryResponseSchema),
  DeltaAggregatedResources: method(`${ADS}/DeltaAggregatedResources`, true, DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema),
} satisfies ServiceDefinition;

export const secretDiscoveryService = {
  StreamSecrets: method(`${SDS}/StreamSecrets`, true, DiscoveryRequestSchema, DiscoveryResponseSchema),
  DeltaSecrets: method(`${SDS}/DeltaSecrets`, true, DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema),
  FetchSecrets: method(`${SDS}/FetchSecrets`, false, DiscoveryRequestSchema, DiscoveryResponseSchema),
} satisfies ServiceDefinition;
