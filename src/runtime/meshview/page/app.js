// Weft mesh view: polls api/graph every 2 s and redraws. Plain browser JavaScript, no build
// step. Every name shown comes from cluster config, so text goes in with textContent only.
'use strict';

const POLL_MS = 2000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const COL_W = 430;
const ROW_H = 110;
const NODE_W = 170;
const NODE_H = 44;

let token = sessionStorage.getItem('weft-token') || '';

function el(tag, attrs, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmtRate(r) {
  return r === null || r === undefined ? '–' : r >= 100 ? `${r.toFixed(0)}/s` : `${r.toFixed(1)}/s`;
}
function fmtPct(x) {
  return x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`;
}
function fmtMs(x) {
  return x === null || x === undefined ? '–' : `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms`;
}
function fmtDuration(s) {
  const a = Math.abs(s);
  const t = a >= 86400 ? `${(a / 86400).toFixed(1)} d` : a >= 3600 ? `${(a / 3600).toFixed(1)} h` : `${Math.round(a / 60)} min`;
  return s < 0 ? `expired ${t} ago` : `in ${t}`;
}

/** Columns by longest path from the nodes nobody calls (bounded, so a cycle cannot loop). */
function layout(nodes, edges) {
  const layer = new Map(nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < nodes.length; i++) {
    let changed = false;
    for (const e of edges) {
      if (!layer.has(e.source) || !layer.has(e.destination) || e.source === e.destination) continue;
      const want = layer.get(e.source) + 1;
      if (layer.get(e.destination) < want && want < nodes.length) {
        layer.set(e.destination, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = new Map();
  for (const n of nodes) {
    const c = layer.get(n.id);
    if (!columns.has(c)) columns.set(c, []);
    columns.get(c).push(n);
  }
  const pos = new Map();
  let rows = 1;
  for (const [c, list] of columns) {
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    list.forEach((n, i) => pos.set(n.id, { x: 20 + c * COL_W, y: 50 + i * ROW_H }));
    rows = Math.max(rows, list.length);
  }
  return { pos, width: 40 + Math.max(1, columns.size) * COL_W - (COL_W - NODE_W), height: 60 + rows * ROW_H };
}

function edgeClass(e) {
  if (e.kind === 'split') return 'edge split';
  if (!e.requestRate) return 'edge traffic idle';
  if (e.successRate !== null && e.successRate < 0.9) return 'edge traffic bad';
  if (e.successRate !== null && e.successRate < 0.99) return 'edge traffic warn';
  return 'edge traffic';
}

/** Two lines: the headline (rate, or the split's weight) and the details. */
function edgeLabel(e) {
  const lock = e.mtls === 'mtls' ? 'mTLS' : e.mtls === 'mixed' ? 'mTLS partly' : e.mtls === 'plaintext' ? 'plaintext' : 'no endpoints';
  if (e.kind === 'split') {
    const obs =
      e.observedShare === null || e.observedShare === undefined ? 'no traffic observed' : `observed ${e.observedShare.toFixed(1)}% · ${fmtRate(e.requestRate)}`;
    return [`split ${e.weight.toFixed(0)}%`, obs];
  }
  return [`${fmtRate(e.requestRate)} · ${fmtPct(e.successRate)} ok`, `p99 ${fmtMs(e.p99Ms)} · ${lock}`];
}

/**
 * The edges as drawn: traffic to a split's backend is drawn into the split's root (callers
 * address the root; the split edges then show where it went), merged per caller and root.
 */
function drawnEdges(edges) {
  const rootOf = new Map();
  for (const e of edges) if (e.kind === 'split') rootOf.set(`${e.destination}:${e.port}`, e.source);
  const merged = new Map();
  const out = [];
  for (const e of edges) {
    const root = e.kind === 'traffic' ? rootOf.get(`${e.destination}:${e.port}`) : undefined;
    if (root === undefined || root === e.source) {
      out.push(e);
      continue;
    }
    const key = `${e.source}>${root}:${e.port}`;
    let m = merged.get(key);
    if (!m) {
      m = { ...e, id: key, destination: root, requestRate: 0, successRate: null, p99Ms: null, retryRate: 0, via: [], okWeight: 0, answered: 0 };
      merged.set(key, m);
      out.push(m);
    }
    m.via.push(e.destination);
    m.requestRate += e.requestRate || 0;
    m.retryRate += e.retryRate || 0;
    if (e.successRate !== null) {
      m.okWeight += e.successRate * (e.requestRate || 0);
      m.answered += e.requestRate || 0;
      m.successRate = m.answered > 0 ? m.okWeight / m.answered : e.successRate;
    }
    if (e.p99Ms !== null) m.p99Ms = Math.max(m.p99Ms || 0, e.p99Ms);
    if (m.mtls !== e.mtls) m.mtls = 'mixed';
  }
  return out;
}

function drawGraph(view) {
  const svg = document.getElementById('graph');
  const edges = drawnEdges(view.edges);
  const used = new Set();
  for (const e of edges) used.add(e.source).add(e.destination);
  const nodes = view.services.filter((s) => used.has(s.id) || s.proxies > 0 || s.split);
  const { pos, width, height } = layout(nodes, edges);
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('height', String(height));
  const defs = el('svg:defs');
  const marker = el('svg:marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('svg:path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#556' }));
  defs.append(marker);
  svg.append(defs);
  const pairs = new Map();
  for (const e of edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.destination);
    if (!a || !b) continue;
    const pair = `${e.source}>${e.destination}`;
    const nth = pairs.get(pair) || 0;
    pairs.set(pair, nth + 1);
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const bend = (e.kind === 'split' ? -1 : 1) * (12 + nth * 14);
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2 + bend;
    const g = el('svg:g', {
      class: edgeClass(e),
      'data-id': e.id,
      'data-kind': e.kind,
      'data-source': e.source,
      'data-destination': e.destination,
      'data-rate': e.requestRate,
      'data-success': e.successRate,
      'data-weight': e.weight,
      'data-share': e.observedShare,
      'data-mtls': e.mtls,
      'data-via': e.via ? e.via.join(' ') : undefined,
    });
    g.append(el('svg:path', { d: `M ${x1} ${y1} Q ${mx} ${my} ${x2} ${y2}`, 'marker-end': 'url(#arrow)' }));
    const [head, detail] = edgeLabel(e);
    const text = el('svg:text', { x: mx, y: my - 18, 'text-anchor': 'middle' });
    text.append(el('svg:tspan', { x: mx, dy: 0, 'font-weight': 600 }, head), el('svg:tspan', { x: mx, dy: 13 }, detail));
    g.append(text);
    svg.append(g);
  }
  for (const n of nodes) {
    const p = pos.get(n.id);
    const g = el('svg:g', { class: `node ${n.kind}`, 'data-id': n.id, transform: `translate(${p.x} ${p.y})` });
    g.append(el('svg:rect', { width: NODE_W, height: NODE_H }));
    g.append(el('svg:text', { x: 8, y: 18 }, n.id));
    const sub =
      n.kind === 'service'
        ? `${n.endpoints.ready}/${n.endpoints.total} ready · ${n.mtlsMode}`
        : `${n.proxies} prox${n.proxies === 1 ? 'y' : 'ies'} · ${n.mtlsMode}`;
    g.append(el('svg:text', { x: 8, y: 35, class: 'sub' }, sub));
    svg.append(g);
  }
}

function table(id, head, rows) {
  const t = document.getElementById(id);
  t.replaceChildren();
  const tr = el('tr');
  for (const h of head) tr.append(el('th', {}, h));
  t.append(tr);
  for (const r of rows) {
    const row = el('tr', r.attrs || {});
    for (const c of r.cells) row.append(typeof c === 'object' && c !== null ? el('td', { class: c.cls }, c.text) : el('td', {}, String(c)));
    t.append(row);
  }
}

function render(view) {
  drawGraph(view);
  table(
    'edges',
    ['from', 'to', 'port', 'kind', 'rate', 'success', 'p99', 'retries', 'weight', 'observed', 'mTLS'],
    view.edges.map((e) => ({
      attrs: { 'data-id': e.id },
      cells: [
        e.source,
        e.destination,
        e.port,
        e.kind,
        { cls: 'num', text: fmtRate(e.requestRate) },
        { cls: 'num', text: fmtPct(e.successRate) },
        { cls: 'num', text: fmtMs(e.p99Ms) },
        { cls: 'num', text: fmtRate(e.retryRate) },
        { cls: 'num', text: e.weight === undefined ? '' : `${e.weight.toFixed(1)}%` },
        { cls: 'num', text: e.observedShare === undefined || e.observedShare === null ? '' : `${e.observedShare.toFixed(1)}%` },
        e.mtls,
      ],
    })),
  );
  table(
    'proxies',
    ['proxy', 'namespace', 'service', 'identity', 'sync', 'types (sent / ACKed)', 'stats scrape'],
    view.proxies.map((p) => ({
      attrs: { 'data-id': p.id },
      cells: [
        p.id,
        p.namespace,
        p.service || '',
        p.identity || '',
        { cls: p.sync, text: p.sync },
        p.types.map((t) => `${t.type} ${t.sent || '–'}/${t.acked || '–'}${t.nack ? ` NACK: ${t.nack}` : ''}`).join('; '),
        p.scrape.state + (p.scrape.error ? `: ${p.scrape.error}` : ''),
      ],
    })),
  );
  table(
    'certificates',
    ['kind', 'subject', 'not after', 'expires'],
    view.certificates.map((c) => ({
      cells: [c.kind, c.subject, c.notAfter, { cls: c.expiresInSeconds < 3600 ? 'expiring' : '', text: fmtDuration(c.expiresInSeconds) }],
    })),
  );
  const s = view.signals;
  const span = s.windowSeconds === null ? 'rates after the second scrape' : `rates over ${s.windowSeconds.toFixed(1)} s`;
  setStatus(`${view.services.length} services · ${view.proxies.length} proxies · ${s.targets} scraped (${s.failed} failed) · ${span} · ${view.generatedAt}`);
}

function setStatus(text, error) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

async function poll() {
  try {
    const res = await fetch('api/graph', { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
    document.getElementById('auth').classList.toggle('shown', res.status === 401 || res.status === 403);
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      setStatus(`${res.status}: ${body.error || res.statusText}`, true);
    } else render(await res.json());
  } catch (err) {
    setStatus(`cannot reach the control plane: ${err}`, true);
  }
  setTimeout(poll, POLL_MS);
}

document.getElementById('auth').addEventListener('submit', (ev) => {
  ev.preventDefault();
  token = document.getElementById('token').value.trim();
  sessionStorage.setItem('weft-token', token);
});
poll();
