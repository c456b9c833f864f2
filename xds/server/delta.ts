// Incremental (Delta) streams: the wire side of xds/protocol/delta.ts. A request becomes the
// reducer's input; its responses are encoded once per distinct content (DeltaDiscoveryResponse).
import type { DeltaDiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { deltaAnswer, deltaPush, deltaRequest, type DeltaState } from '../protocol/delta.ts';
import { resourcesOf, type RequestStep, type Response, type Step } from '../protocol/state.ts';
import type { Known } from '../protocol/views.ts';
import type { TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import { BodyMemo, deltaBody } from './responses.ts';
import { XdsStream } from './stream.ts';

const bodies = new BodyMemo<object>();

export class DeltaStream extends XdsStream<DeltaDiscoveryRequest, Known> {
  readonly protocol = 'delta';

  protected request(state: DeltaState, typeUrl: TypeUrl, req: DeltaDiscoveryRequest, now: number): RequestStep<Known> {
    return deltaRequest(state, {
      typeUrl,
      responseNonce: req.responseNonce,
      subscribe: req.resourceNamesSubscribe,
      unsubscribe: req.resourceNamesUnsubscribe,
      initialVersions: req.initialResourceVersions,
      error: req.errorDetail?.message,
      now,
    });
  }

  protected answer(state: DeltaState, typeUrl: TypeUrl, snap: CachedSnapshot): Step<Known> {
    return deltaAnswer(state, typeUrl, snap);
  }

  protected pushed(state: DeltaState, snap: CachedSnapshot): Step<Known> {
    return deltaPush(state, snap);
  }

  protected body(r: Response): Uint8Array {
    const make = () => deltaBody(r.typeUrl, r.holds.version, resourcesOf(r), r.removed);
    return r.memo === undefined ? make() : bodies.get(r.memo.owner, r.memo.key, make);
  }
}
