// What the controller proofs read from the node cluster: a container's id in containerd, a
// controller Pod's memory (kubectl top needs metrics-server, which the harness does not run:
// read the container's own cgroup and /proc instead), every object carrying a release's
// label across all API resources, and a Pod's create → Ready time.
import { nodeContainer } from './traffic-loop.ts';
import { napply, nk } from '../../node/support.ts';

/** containerd's id of `container` in Pod `pod` (status.containerStatuses[].containerID). */
export async function containerId(namespace: string, pod: string, container: string): Promise<string> {
  const r = await nk(['-n', namespace, 'get', 'pod', pod, '-o', `jsonpath={.status.containerStatuses[?(@.name=="${container}")].containerID}`]);
  const id = r.stdout.trim().replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`no containerID for ${namespace}/${pod}/${container}`);
  return id;
}

/** "<cgroup usage> (rss <cgroup rss>), VmRSS of PID 1 <kB>", from inside the container. */
export async function controllerMemory(namespace: string, pod: string): Promise<string> {
  const script = [
    'u=$(cat /sys/fs/cgroup/memory/memory.usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.current)',
    'r=$(sed -n "s/^total_rss //p" /sys/fs/cgroup/memory/memory.stat 2>/dev/null || sed -n "s/^anon //p" /sys/fs/cgroup/memory.stat)',
    'v=$(sed -n "s/^VmRSS:[[:space:]]*//p" /proc/1/status)',
    'echo "$u $r $v"',
  ].join('; ');
  const out = (await nk(['-n', namespace, 'exec', pod, '-c', 'controller', '--', 'sh', '-c', script])).stdout.trim();
  const [usage, rss, vmrss] = out.split(/\s+/);
  const mib = (b: string | undefined) => (b ? `${(Number(b) / 1048576).toFixed(1)} MiB` : '?');
  return `cgroup usage ${mib(usage)} (rss ${mib(rss)}), node process VmRSS ${vmrss ? `${(Number(vmrss) / 1024).toFixed(1)} MiB` : '?'}`;
}

let resourceList: Promise<{ namespaced: string; cluster: string }> | undefined;

/** Listable API resources (events left out: they are not created by anyone's install). */
function resources(): Promise<{ namespaced: string; cluster: string }> {
  resourceList ??= (async () => {
    const get = async (namespaced: boolean) =>
      (await nk(['api-resources', '--verbs=list', `--namespaced=${namespaced}`, '-o', 'name'])).stdout
        .split('\n')
        .filter((r) => r && !r.startsWith('events') && r !== 'componentstatuses')
        .join(',');
    return { namespaced: await get(true), cluster: await get(false) };
  })();
  return resourceList;
}

/** Every object (any API resource, any namespace) labelled app.kubernetes.io/instance=<release>, as kind/name. */
export async function releaseObjects(release: string): Promise<string[]> {
  const { namespaced, cluster } = await resources();
  const sel = `app.kubernetes.io/instance=${release}`;
  const ns = await nk(['get', namespaced, '-A', '-l', sel, '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{"\\n"}{end}']);
  const cl = await nk(['get', cluster, '-l', sel, '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}{"\\n"}{end}']);
  return [...ns.stdout.split('\n'), ...cl.stdout.split('\n')].filter(Boolean).sort();
}

/** Creates a Pod running a small HTTP server with a readiness probe; ms from create to Ready (as kubectl sees it). */
export async function timeToReady(namespace: string, name: string, image: string): Promise<number> {
  const t = Date.now();
  await napply(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: name } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            ...nodeContainer(image, 'app', "require('node:http').createServer((q, s) => s.end('ok')).listen(8080)"),
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    },
    namespace,
  );
  await nk(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s'], { timeoutMs: 150_000 });
  return Date.now() - t;
}
