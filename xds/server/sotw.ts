// State-of-the-World streams: the wire side of xds/protocol/sotw.ts. A request becomes the
// reducer's input; its responses are encoded once per distinct content (DiscoveryResponse).
import type { DiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { sotwAnswer, sotwPush, sotwRequest, type Held, type SotwState } from '../protocol/sotw.ts';
import { resourcesOf, type RequestStep, type Response, type Step } from '../protocol/state.ts';
import type { TypeUrl } from '../resources/type-urls.ts';
import type { CachedSnapshot } from '../snapshot/types.ts';
import { BodyMemo, sotwBody } from './responses.ts';
import { XdsStream } from './stream.ts';

const bodies = new BodyMemo<object>();

export class SotwStream extends XdsStream<DiscoveryRequest, Held> {
  readonly protocol = 'sotw';

  protected request(state: SotwState, typeUrl: TypeUrl, req: DiscoveryRequest, now: number): RequestStep<Held> {
    const { responseNonce, versionInfo, resourceNames } = req;
    return sotwRequest(state, { typeUrl, responseNonce, versionInfo, resourceNames, error: req.errorDetail?.message, now });
  }

  protected answer(state: SotwState, typeUrl: TypeUrl, snap: CachedSnapshot): Step<Held> {
    return sotwAnswer(state, typeUrl, snap);
  }

  protected pushed(state: SotwState, snap: CachedSnapshot): Step<Held> {
    return sotwPush(state, snap);
  }

  protected body(r: Response): Uint8Array {
    const make = () => sotwBody(r.typeUrl, r.holds.version, resourcesOf(r));
    return r.memo === undefined ? make() : bodies.get(r.memo.owner, r.memo.key, make);
  }
}
