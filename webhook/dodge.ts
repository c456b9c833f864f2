// Injection cannot be dodged silently (issue 13, Low): in a meshed namespace a Pod could look
// injected without being so — a forged weft.dev/status annotation or its own container named
// weft-proxy made the webhook skip it as "already injected" — or run its app as the proxy's
// uid 1337, which the capture rules exempt (its traffic bypasses the proxy). Decided here:
//   - a status annotation with no weft containers is forged: the Pod is injected as usual and
//     the annotation rewritten (with a warning);
//   - weft-proxy / weft-init present: admitted unchanged only when they are what this webhook
//     injects (the status annotation lists them; images, the proxy's uid and the capture script
//     recomputed from the Pod's own annotations match) — that is a reinvocation or a copy of an
//     injected Pod; anything else is denied, naming the container: the names are reserved;
//   - an app container (or the Pod's securityContext) with runAsUser 1337 is denied: capture
//     cannot apply to it. Only the declared uid is visible at admission: an image whose USER is
//     1337 without runAsUser is not caught (docs/ca-and-identity.md, Injection).
import { PROXY_UID } from '../src/base/mesh-ports.ts';
import type { Container, Pod } from './pod.ts';
import { Annotations, Names, type InjectValues } from './values.ts';

export type Dodge =
  { readonly verdict: 'forged-status' } | { readonly verdict: 'genuine' } | { readonly verdict: 'deny'; readonly message: string } | undefined;

interface Loose {
  readonly image?: unknown;
  readonly command?: unknown;
  readonly args?: unknown;
  readonly securityContext?: { readonly runAsUser?: unknown };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function uidOf(c: Container | undefined, podUid: unknown): unknown {
  return (c as Loose | undefined)?.securityContext?.runAsUser ?? podUid;
}

/** `expectedInit`: the init container this webhook would render for this Pod now. */
export function judgeDodges(pod: Pod, v: InjectValues, expectedInit: Container): Dodge {
  const podUid = (pod.spec as { securityContext?: { runAsUser?: unknown } }).securityContext?.runAsUser;
  const all = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  const reserved = new Set<string>([Names.proxyContainer, Names.initContainer, Names.validationContainer]);
  const app = all.filter((c) => !reserved.has(c.name));
  const at1337 = app.filter((c) => uidOf(c, podUid) === PROXY_UID).map((c) => c.name);
  if (at1337.length)
    return {
      verdict: 'deny',
      message: `container ${at1337.join(', ')} runs as uid ${PROXY_UID}, the sidecar's: traffic capture exempts that uid, so it would bypass the mesh; run it as another user, or opt the Pod out with ${Annotations.inject}: "false"`,
    };

  const status = pod.metadata?.annotations?.[Annotations.status];
  const present = all.filter((c) => reserved.has(c.name));
  if (present.length === 0) return status === undefined ? undefined : { verdict: 'forged-status' };

  const proxy = present.find((c) => c.name === Names.proxyContainer) as Loose | undefined;
  // weft-init, or weft-validation in CNI mode (its capture settings are in its env).
  const init = present.find((c) => c.name === expectedInit.name) as (Loose & { env?: unknown }) | undefined;
  const listed = listedNames(status);
  const genuine =
    listed !== undefined &&
    same([...listed].sort(), present.map((c) => c.name).sort()) &&
    proxy !== undefined &&
    init !== undefined &&
    proxy.image === v.proxyImage &&
    proxy.securityContext?.runAsUser === PROXY_UID &&
    init.image === expectedInit.image &&
    same(init.command, expectedInit.command) &&
    same(init.args, expectedInit.args) &&
    same(init.env, (expectedInit as { env?: unknown }).env);
  if (genuine) return { verdict: 'genuine' };
  return {
    verdict: 'deny',
    message: `container ${present.map((c) => c.name).join(', ')} is not the sidecar this webhook injects (${Names.proxyContainer}, ${Names.initContainer} and ${Names.validationContainer} are reserved in meshed namespaces): rename it, or opt the Pod out with ${Annotations.inject}: "false"`,
  };
}

/** The container names a status annotation lists, or undefined when it is not one of ours. */
function listedNames(status: string | undefined): string[] | undefined {
  if (status === undefined) return undefined;
  try {
    const s = JSON.parse(status) as { initContainers?: unknown; containers?: unknown };
    const names = [s.initContainers, s.containers].flatMap((l) => (Array.isArray(l) ? l : []));
    return names.every((n) => typeof n === 'string') ? (names as string[]) : undefined;
  } catch {
    return undefined;
  }
}
