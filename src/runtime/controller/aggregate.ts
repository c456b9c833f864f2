// Programmed for the whole mesh: this replica's own tallies (fresh) plus the live reports of
// the other replicas (report-watcher.ts drops a report once its Lease expires). A report
// for another configuration version than ours (a replica behind or ahead of us) cannot vouch
// for the current configuration: its proxies count as affected but not acknowledged, and
// Programmed waits for that replica by name.
import type { Condition, PolicyStatus } from '../../model/types.ts';
import type { Rejection, ReplicaReport } from './replica-report.ts';

export interface MeshTally {
  readonly affected: number;
  readonly acked: number;
  readonly rejected: number;
  /** The first rejection, with the replica the proxy is connected to. */
  readonly first?: Rejection & { readonly replica: string };
  /** Replicas whose report is for another configuration version. */
  readonly waitingFor: readonly string[];
}

export function meshTally(key: string, local: ReplicaReport, peers: readonly ReplicaReport[]): MeshTally {
  let affected = 0;
  let acked = 0;
  let rejected = 0;
  let first: MeshTally['first'];
  const waitingFor: string[] = [];
  for (const r of [local, ...peers]) {
    const t = r.resources.get(key);
    if (r.configVersion !== local.configVersion) {
      waitingFor.push(r.replica);
      affected += t?.affected ?? 0;
      continue;
    }
    if (t === undefined) continue;
    affected += t.affected;
    acked += t.acked;
    rejected += t.rejected;
    if (first === undefined && t.first) first = { ...t.first, replica: r.replica };
  }
  return { affected, acked, rejected, ...(first ? { first } : {}), waitingFor };
}

const programmed = (status: Condition['status'], reason: string, message: string): Condition => ({ type: 'Programmed', status, reason, message });

export function programmedCondition(status: PolicyStatus, tally: MeshTally): Condition {
  const accepted = status.conditions.find((c) => c.type === 'Accepted');
  if (accepted?.status !== 'True') return programmed('False', 'NotAccepted', 'Not programmed: the resource is not accepted');
  if (status.conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'False')) {
    return programmed('False', 'RefsNotResolved', 'Not programmed: the resource has unresolved references and is not applied');
  }
  const waiting = tally.waitingFor.length > 0 ? ` (replica ${tally.waitingFor.join(', ')} has not reported on the current configuration yet)` : '';
  if (tally.affected === 0) {
    return waiting
      ? programmed('False', 'Pending', `0/0 proxies acknowledged the current configuration${waiting}`)
      : programmed('Unknown', 'NoProxies', 'No connected proxy is affected by this resource');
  }
  const of = `${tally.acked}/${tally.affected} proxies acknowledged the current configuration`;
  const f = tally.first;
  if (tally.rejected > 0 && f) {
    const more = tally.rejected > 1 ? ` (and ${tally.rejected - 1} more)` : '';
    return programmed('False', 'Rejected', `${of}; proxy ${f.proxy} on replica ${f.replica}${more} rejected ${f.type}: ${f.message}`);
  }
  return tally.acked === tally.affected && !waiting
    ? programmed('True', 'Programmed', of)
    : programmed('False', 'Pending', `${of}; waiting for the rest${waiting}`);
}
