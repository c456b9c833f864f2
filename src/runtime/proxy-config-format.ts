// `weftctl config`'s views of what the control plane serves one proxy (xds/server/debug-config.ts):
// one section, or all of them, as short tables; json/yaml print the resources as Envoy's JSON.
import type { JsonValue } from '@bufbuild/protobuf';
import { textTable } from '../base/table.ts';
import type { ProxyConfig, SecretSummary } from '../../xds/server/debug-config.ts';

export const CONFIG_SECTIONS = ['clusters', 'listeners', 'routes', 'endpoints', 'secrets'] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

/** What the CLI prints: the config as served, plus the replica that serves it. */
export type ServedConfig = ProxyConfig & { readonly replica: string };

type J = Record<string, unknown>;
const obj = (v: unknown): J => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as J) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, dflt = '-'): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : dflt);

function socket(address: unknown): string {
  const s = obj(obj(address).socketAddress);
  if (s.address === undefined) return str(obj(obj(address).pipe).path);
  return `${str(s.address)}:${str(s.portValue, '0')}`;
}

const shortName = (n: unknown): string => str(n).replace(/^envoy\.transport_sockets\./, '');

function clusters(items: readonly JsonValue[]): string {
  return textTable(
    ['NAME', 'TYPE', 'TRANSPORT', 'LB'],
    items.map((c) => {
      const o = obj(c);
      return [
        str(o.name),
        str(o.type ?? obj(o.clusterType).name, 'STATIC'),
        o.transportSocket ? shortName(obj(o.transportSocket).name) : 'plaintext',
        str(o.lbPolicy, 'ROUND_ROBIN'),
      ];
    }),
  );
}

function listeners(items: readonly JsonValue[]): string {
  return textTable(
    ['NAME', 'ADDRESS', 'FILTER CHAINS', 'DIRECTION'],
    items.map((l) => {
      const o = obj(l);
      return [str(o.name), socket(o.address), String(arr(o.filterChains).length + (o.defaultFilterChain ? 1 : 0)), str(o.trafficDirection, '-')];
    }),
  );
}

function routes(items: readonly JsonValue[]): string {
  return textTable(
    ['ROUTE CONFIG', 'VIRTUAL HOST', 'DOMAINS', 'ROUTES'],
    items.flatMap((r) => {
      const o = obj(r);
      const hosts = arr(o.virtualHosts);
      if (hosts.length === 0) return [[str(o.name), '-', '-', '0']];
      return hosts.map((h) => {
        const v = obj(h);
        const domains = arr(v.domains).map((d) => str(d));
        return [
          str(o.name),
          str(v.name),
          domains.length > 3 ? `${domains.slice(0, 3).join(',')},+${domains.length - 3}` : domains.join(','),
          String(arr(v.routes).length),
        ];
      });
    }),
  );
}

function endpoints(items: readonly JsonValue[]): string {
  return textTable(
    ['CLUSTER', 'ENDPOINT', 'HEALTH', 'LOCALITY'],
    items.flatMap((e) => {
      const o = obj(e);
      const rows = arr(o.endpoints).flatMap((le) => {
        const l = obj(le);
        const loc = obj(l.locality);
        const where = [loc.region, loc.zone].filter((x) => typeof x === 'string').join('/') || '-';
        return arr(l.lbEndpoints).map((x) => [str(o.clusterName), socket(obj(obj(x).endpoint).address), str(obj(x).healthStatus, 'UNKNOWN'), where]);
      });
      return rows.length === 0 ? [[str(o.clusterName), '-', '-', '-']] : rows;
    }),
  );
}

function secrets(items: readonly SecretSummary[]): string {
  return textTable(
    ['NAME', 'KIND', 'SUBJECT', 'SANS', 'NOT AFTER'],
    items.flatMap((s) =>
      s.certificates.length === 0
        ? [[s.name, s.kind, '-', '-', '-']]
        : s.certificates.map((c) => [s.name, s.kind, c.subject || '-', c.sans.join(',') || '-', c.notAfter]),
    ),
  );
}

const TITLES: Record<ConfigSection, string> = {
  clusters: 'CLUSTERS',
  listeners: 'LISTENERS',
  routes: 'ROUTES',
  endpoints: 'ENDPOINTS',
  secrets: 'SECRETS (certificates only; keys are never served)',
};

export function formatSection(c: ProxyConfig, section: ConfigSection): string {
  switch (section) {
    case 'clusters':
      return clusters(c.clusters);
    case 'listeners':
      return listeners(c.listeners);
    case 'routes':
      return routes(c.routes);
    case 'endpoints':
      return endpoints(c.endpoints);
    case 'secrets':
      return secrets(c.secrets);
  }
}

export function formatProxyConfig(c: ServedConfig, section: ConfigSection | undefined): string {
  if (section !== undefined) return formatSection(c, section);
  const who = c.proxy.pod !== undefined ? `${c.proxy.namespace}/${c.proxy.pod}` : `${c.proxy.namespace}/${c.proxy.id}`;
  const head = [
    `Proxy:     ${who} (id ${c.proxy.id}${c.proxy.identity !== undefined ? `, ${c.proxy.identity}` : ''})`,
    `Replica:   ${c.replica}`,
    `Snapshot:  ${c.snapshotVersion ?? '-'} (model ${c.modelVersion ?? '-'})`,
  ];
  return [`${head.join('\n')}\n`, ...CONFIG_SECTIONS.map((s) => `${TITLES[s]}\n${formatSection(c, s)}`)].join('\n');
}

/** json/yaml: one section's resources, or the whole served config. */
export function configData(c: ServedConfig, section: ConfigSection | undefined): unknown {
  return section === undefined ? c : c[section];
}
