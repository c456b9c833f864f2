// The weft-cni plugin's CNI protocol handling (spec 1.1 "Plugin Protocol"): every command,
// prevResult passthrough, error JSON, fail-closed capture. The host (nsenter +
// iptables-restore) is a recording stand-in here; test/capture/cni-netns.integration.test.ts
// runs the real executable against a real network namespace.
import { describe, expect, it } from 'vitest';
import { CAPTURE_ANNOTATION, encodeCapture } from '../../src/capture/annotation.ts';
import { CniErrors, handleCni, parseCniArgs, POD_ANNOTATIONS_CAPABILITY, SUPPORTED_VERSIONS, type CniHost } from '../../src/capture/cni-plugin.ts';
import { captureRestore } from '../../src/capture/rules.ts';

const cfg = { excludeInboundPorts: [9102], excludeOutboundPorts: [5432], excludeOutboundCidrs: ['169.254.169.254/32'], ipv6: false };
const prevResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', mac: '0a:58:0a:f4:00:05', sandbox: '/var/run/netns/cni-1' }],
  ips: [{ address: '10.244.0.5/24', gateway: '10.244.0.1', interface: 0 }],
  routes: [{ dst: '10.96.0.0/16', gw: '10.244.0.1' }],
  dns: {},
};

function fakeHost(opts: { fail?: string; missing?: string } = {}): CniHost & { applied: { netns: string; restores: unknown }[]; checked: string[] } {
  let t = 0;
  const h = {
    applied: [] as { netns: string; restores: unknown }[],
    checked: [] as string[],
    async apply(netns: string, restores: readonly { family: 4 | 6; input: string }[]) {
      if (opts.fail) throw new Error(opts.fail);
      h.applied.push({ netns, restores });
      t += 7.5;
    },
    async check(netns: string) {
      h.checked.push(netns);
      return opts.missing;
    },
    now: () => t,
  };
  return h;
}

const env = (command: string, extra: Record<string, string> = {}) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/cni-1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1',
  ...extra,
});

function conf(over: Record<string, unknown> = {}, annotations?: Record<string, string>): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'weft',
    type: 'weft-cni',
    prevResult,
    ...(annotations ? { runtimeConfig: { [POD_ANNOTATIONS_CAPABILITY]: annotations } } : {}),
    ...over,
  });
}
const marked = { [CAPTURE_ANNOTATION]: encodeCapture(cfg), other: 'x' };

describe('weft-cni ADD', () => {
  it('passes an unmarked Pod through: prevResult unchanged, no rules', async () => {
    const host = fakeHost();
    for (const stdin of [conf(), conf({}, { 'app.kubernetes.io/name': 'web' })]) {
      const out = await handleCni({ env: env('ADD'), stdin }, host);
      expect(out.exitCode).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual(prevResult);
      expect(out.log).toMatchObject({ command: 'ADD', pod: 'shop/web-1', captured: false });
    }
    expect(host.applied).toEqual([]);
  });

  it('captures a marked Pod inside CNI_NETNS with the rules of src/capture/rules.ts, then returns prevResult', async () => {
    const host = fakeHost();
    const out = await handleCni({ env: env('ADD'), stdin: conf({}, marked) }, host);
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(prevResult);
    expect(host.applied).toEqual([{ netns: '/var/run/netns/cni-1', restores: captureRestore(cfg) }]);
    expect(out.log).toEqual({ command: 'ADD', pod: 'shop/web-1', containerId: 'abc123', captured: true, applyMs: 7.5 });
  });

  it('answers in the configuration cniVersion', async () => {
    const out = await handleCni({ env: env('ADD'), stdin: conf({ cniVersion: '0.4.0', prevResult: { ...prevResult, cniVersion: '0.4.0' } }) }, fakeHost());
    expect(JSON.parse(out.stdout).cniVersion).toBe('0.4.0');
  });

  it.each([
    [
      'apply fails',
      { fail: 'iptables-restore: line 3 failed' },
      conf({}, marked),
      CniErrors.captureFailed,
      /cannot apply the traffic capture rules of shop\/web-1/,
    ],
    [
      'bad annotation',
      {},
      conf({}, { [CAPTURE_ANNOTATION]: '{"excludeOutboundPorts":[70000]}' }),
      CniErrors.badCaptureAnnotation,
      /excludeOutboundPorts must be a list of ports/,
    ],
    ['annotation with unknown fields', {}, conf({}, { [CAPTURE_ANNOTATION]: '{"script":"rm -rf /"}' }), CniErrors.badCaptureAnnotation, /unknown field/],
    ['annotation not JSON', {}, conf({}, { [CAPTURE_ANNOTATION]: 'yes' }), CniErrors.badCaptureAnnotation, /not JSON/],
  ] as const)('fails closed for a marked Pod when %s: CNI error JSON, exit 1', async (_what, hostOpts, stdin, code, msg) => {
    const out = await handleCni({ env: env('ADD'), stdin }, fakeHost(hostOpts));
    expect(out.exitCode).toBe(1);
    const err = JSON.parse(out.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
    expect(err.cniVersion).toBe('1.0.0');
    expect(err.code).toBe(code);
    expect(err.msg).toMatch(msg);
    expect(out.log?.error).toBeDefined();
  });

  it('puts the failing command output in details', async () => {
    const out = await handleCni({ env: env('ADD'), stdin: conf({}, marked) }, fakeHost({ fail: 'iptables-restore: line 3 failed' }));
    expect(JSON.parse(out.stdout).details).toBe('iptables-restore: line 3 failed');
  });

  it('refuses a marked Pod without CNI_NETNS (invalid environment, code 4)', async () => {
    const e = env('ADD');
    delete (e as Record<string, string | undefined>).CNI_NETNS;
    const out = await handleCni({ env: e, stdin: conf({}, marked) }, fakeHost());
    expect([out.exitCode, JSON.parse(out.stdout).code]).toEqual([1, CniErrors.invalidEnv]);
  });

  it('must be chained: no prevResult is an invalid configuration (code 7)', async () => {
    const out = await handleCni({ env: env('ADD'), stdin: conf({ prevResult: undefined }) }, fakeHost());
    expect([out.exitCode, JSON.parse(out.stdout).code]).toEqual([1, CniErrors.invalidConfig]);
    expect(JSON.parse(out.stdout).msg).toMatch(/chained plugin/);
  });

  it.each([
    ['stdin is not JSON', '{nope', CniErrors.decodeFailure],
    ['stdin is an array', '[]', CniErrors.decodeFailure],
    ['no cniVersion', JSON.stringify({ name: 'weft', type: 'weft-cni', prevResult }), CniErrors.invalidConfig],
    ['unsupported cniVersion', conf({ cniVersion: '9.9.9' }), CniErrors.incompatibleVersion],
  ] as const)('errors when %s', async (_what, stdin, code) => {
    const out = await handleCni({ env: env('ADD'), stdin }, fakeHost());
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({ code, msg: expect.any(String) });
  });
});

describe('weft-cni CHECK, DEL, VERSION, STATUS, GC', () => {
  it('CHECK passes an unmarked Pod, checks a marked Pod netns, and errors when the rules are gone', async () => {
    expect(await handleCni({ env: env('CHECK'), stdin: conf() }, fakeHost())).toMatchObject({ stdout: '', exitCode: 0 });
    const ok = fakeHost();
    expect(await handleCni({ env: env('CHECK'), stdin: conf({}, marked) }, ok)).toMatchObject({ stdout: '', exitCode: 0 });
    expect(ok.checked).toEqual(['/var/run/netns/cni-1']);
    const gone = await handleCni({ env: env('CHECK'), stdin: conf({}, marked) }, fakeHost({ missing: 'IPv4 chain WEFT_OUTPUT is missing' }));
    expect(gone.exitCode).toBe(1);
    expect(JSON.parse(gone.stdout)).toMatchObject({ code: CniErrors.captureMissing, msg: expect.stringMatching(/WEFT_OUTPUT is missing/) });
  });

  it('CHECK needs cniVersion 0.4.0 or later', async () => {
    const out = await handleCni({ env: env('CHECK'), stdin: conf({ cniVersion: '0.3.1' }) }, fakeHost());
    expect(JSON.parse(out.stdout).code).toBe(CniErrors.incompatibleVersion);
  });

  it('DEL always succeeds with no output (the rules die with the netns), even on garbage input', async () => {
    for (const stdin of [conf({}, marked), '{nope', '']) {
      const host = fakeHost();
      expect(await handleCni({ env: env('DEL'), stdin }, host)).toEqual({ stdout: '', exitCode: 0 });
      expect(host.applied).toEqual([]);
    }
  });

  it('VERSION lists the supported versions in the asked cniVersion', async () => {
    const out = await handleCni({ env: { CNI_COMMAND: 'VERSION' }, stdin: JSON.stringify({ cniVersion: '1.0.0' }) }, fakeHost());
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: [...SUPPORTED_VERSIONS] });
    expect(out.exitCode).toBe(0);
  });

  it('STATUS and GC succeed; an unknown command is an invalid environment', async () => {
    expect((await handleCni({ env: { CNI_COMMAND: 'STATUS' }, stdin: conf() }, fakeHost())).exitCode).toBe(0);
    expect((await handleCni({ env: { CNI_COMMAND: 'GC' }, stdin: conf() }, fakeHost())).exitCode).toBe(0);
    const out = await handleCni({ env: { CNI_COMMAND: 'FROB' }, stdin: conf() }, fakeHost());
    expect([out.exitCode, JSON.parse(out.stdout).code]).toEqual([1, CniErrors.invalidEnv]);
  });

  it('parses CNI_ARGS', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=a=b;junk')).toEqual({ IgnoreUnknown: '1', K8S_POD_NAME: 'a=b' });
    expect(parseCniArgs(undefined)).toEqual({});
  });
});
