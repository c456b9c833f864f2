// Kubernetes label selectors in their string form, equality-based subset:
// `a=b`, `a==b`, `a!=b`, `a` (exists), `!a` (does not exist), comma-separated (AND).

export type Requirement =
  { readonly key: string; readonly op: 'eq' | 'neq'; readonly value: string } | { readonly key: string; readonly op: 'exists' | 'absent' };

export type LabelSelector = readonly Requirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Parses `text`; throws an Error naming the bad term (selectors come from flags). */
export function parseLabelSelector(text: string): LabelSelector {
  const out: Requirement[] = [];
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    const key = m?.[2]?.trim() ?? '';
    if (!m || !KEY.test(key)) throw new Error(`invalid label selector term "${term}"`);
    if (m[1] === '!') {
      if (m[3] !== undefined) throw new Error(`invalid label selector term "${term}"`);
      out.push({ key, op: 'absent' });
    } else if (m[3] === undefined) {
      out.push({ key, op: 'exists' });
    } else {
      const value = (m[4] ?? '').trim();
      if (!VALUE.test(value)) throw new Error(`invalid label value in "${term}"`);
      out.push({ key, op: m[3] === '!=' ? 'neq' : 'eq', value });
    }
  }
  return out;
}

export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'eq':
        return has && labels[r.key] === r.value;
      case 'neq':
        return !has || labels[r.key] !== r.value;
    }
  });
}
