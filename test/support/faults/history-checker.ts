import { History, LogRead, messageOf, partitionKey, PublishAttempt } from './history';

/**
 * The checker over an acknowledged history (docs/reliability.md, "The checker"). Offsets give a
 * total order, so every check is a map lookup or a sort: no linearizability search.
 *
 * Errors on any stream: C2 (over reads), C3 single-attempt duplicates, C4, C5, C6, C9 (a skip, or a
 * repeat within one subscription; a repeat on resuming elsewhere is advisory), C10, C11.
 * Errors on AckPolicy ALL, advisory on LEADER (a deposed leader's offsets are legitimately reused):
 * C1, C7, C13 and the ack side of C2.
 */
export type CheckId = 'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6' | 'C7' | 'C9' | 'C10' | 'C11' | 'C13';

export interface Anomaly {
  readonly check: CheckId;
  readonly severity: 'error' | 'advisory';
  readonly partition: string;
  readonly detail: string;
}

export interface CheckReport {
  readonly anomalies: readonly Anomaly[];
  readonly errors: readonly Anomaly[];
  readonly attempts: number;
  /** AckPolicy ALL publishes acknowledged, and how many of them the final logs lack (C1). */
  readonly ackedAll: number;
  readonly lostAll: number;
  readonly ackedLeader: number;
  readonly lostLeader: number;
  /** Messages stored twice through two attempts after an attempt without a definite answer. */
  readonly retryDuplicates: number;
  readonly deliveries: number;
}

type Sink = (check: CheckId, advisory: boolean, partition: string, detail: string) => void;

export function checkHistory(history: History): CheckReport {
  const anomalies: Anomaly[] = [];
  const add: Sink = (check, advisory, partition, detail) => anomalies.push({ check, severity: advisory ? 'advisory' : 'error', partition, detail });

  const attemptByValue = new Map<string, PublishAttempt>();
  for (const a of history.attempts) attemptByValue.set(a.value, a);
  const finalByPartition = new Map<string, LogRead>();
  for (const log of history.finalLogs) finalByPartition.set(partitionKey(log.stream, log.partition), log);
  const finalValueAt = (key: string, offset: number): string | undefined => {
    const log = finalByPartition.get(key);
    return log?.records[offset - log.startOffset]?.value;
  };

  const lost = checkAcks(history.attempts, finalValueAt, finalByPartition, add);
  checkOffsetAgreement(history, add);
  const retryDuplicates = checkFinalLogs(history.finalLogs, attemptByValue, add);
  checkReads(history, attemptByValue, add);
  checkRealTimeOrder(history.attempts, add);
  checkDeliveries(history, finalValueAt, add);
  checkReplicas(history.replicaLogs, finalByPartition, add);

  const okOf = (mode: string) => history.attempts.filter((a) => a.ackMode === mode && a.result.type === 'ok').length;
  return {
    anomalies,
    errors: anomalies.filter((a) => a.severity === 'error'),
    attempts: history.attempts.length,
    ackedAll: okOf('all'),
    lostAll: lost.all,
    ackedLeader: okOf('leader'),
    lostLeader: lost.leader,
    retryDuplicates,
    deliveries: history.deliveries.length,
  };
}

/** C1 lost acknowledged write, C13 double ack. */
function checkAcks(
  attempts: readonly PublishAttempt[],
  finalValueAt: (key: string, offset: number) => string | undefined,
  finals: ReadonlyMap<string, LogRead>,
  add: Sink,
): { all: number; leader: number } {
  const lost = { all: 0, leader: 0 };
  for (const a of attempts) {
    const key = partitionKey(a.stream, a.partition);
    const advisory = a.ackMode !== 'all';
    const distinct = [...new Set(a.ackOffsets)];
    if (distinct.length > 1) add('C13', advisory, key, `${a.value} acknowledged at offsets ${distinct.join(', ')}`);
    if (a.result.type !== 'ok' || !finals.has(key)) continue;
    const stored = finalValueAt(key, a.result.offset);
    if (stored === a.value) continue;
    lost[a.ackMode]++;
    const movedTo = finals.get(key)!.records.find((r) => r.value === a.value)?.offset;
    const where = movedTo === undefined ? 'not in the final log' : `found at offset ${movedTo} instead`;
    add('C1', advisory, key, `${a.value} acknowledged at offset ${a.result.offset}: ${stored === undefined ? 'offset missing' : `holds ${stored}`}, ${where}`);
  }
  return lost;
}

/** C2: one offset, two values, across acks (ALL: error, LEADER: advisory) and every read. */
function checkOffsetAgreement(history: History, add: Sink): void {
  const seen = new Map<string, { value: string; from: string }>();
  const note = (key: string, offset: number, value: string, from: string, advisory: boolean): void => {
    const at = `${key}@${offset}`;
    const first = seen.get(at);
    if (first === undefined) {
      if (!advisory) seen.set(at, { value, from });
      return;
    }
    if (first.value !== value) add('C2', advisory, key, `offset ${offset}: ${first.value} (${first.from}) and ${value} (${from})`);
  };
  for (const log of [...history.finalLogs, ...history.replicaLogs]) {
    for (const r of log.records) note(partitionKey(log.stream, log.partition), r.offset, r.value, `log ${log.source}`, false);
  }
  for (const d of history.deliveries) note(partitionKey(d.stream, d.partition), d.offset, d.value, d.source, false);
  for (const a of history.attempts) {
    if (a.result.type === 'ok' && a.ackMode === 'all') note(partitionKey(a.stream, a.partition), a.result.offset, a.value, `ack via ${a.via}`, false);
  }
  for (const a of history.attempts) {
    if (a.result.type === 'ok' && a.ackMode !== 'all') note(partitionKey(a.stream, a.partition), a.result.offset, a.value, `leader ack via ${a.via}`, true);
  }
}

/** C3 duplicates and C6 gaps in the final logs; returns the number of allowed retry duplicates. */
function checkFinalLogs(finals: readonly LogRead[], attempts: ReadonlyMap<string, PublishAttempt>, add: Sink): number {
  let retryDuplicates = 0;
  for (const log of finals) {
    const key = partitionKey(log.stream, log.partition);
    checkContiguous(log, add);
    const offsetsOfValue = new Map<string, number>();
    const valuesOfMessage = new Map<string, string[]>();
    for (const r of log.records) {
      const again = offsetsOfValue.get(r.value);
      if (again !== undefined) add('C3', false, key, `${r.value} stored at offsets ${again} and ${r.offset} (one attempt)`);
      offsetsOfValue.set(r.value, r.offset);
      const message = messageOf(r.value);
      if (message === null) continue;
      const values = valuesOfMessage.get(message);
      if (values) values.push(r.value);
      else valuesOfMessage.set(message, [r.value]);
    }
    for (const [message, values] of valuesOfMessage) {
      const distinct = [...new Set(values)];
      if (distinct.length < 2) continue;
      // A client retries only after an attempt without a definite answer, and stops at the first ack:
      // allowed when every stored attempt but at most one acknowledged one ended unanswered.
      const results = distinct.map((v) => attempts.get(v)?.result.type);
      const retried = results.filter((r) => r === 'ok').length <= 1 && results.every((r) => r === 'ok' || r === 'info');
      if (retried) retryDuplicates += distinct.length - 1;
      else add('C3', false, key, `${message} stored ${distinct.length} times (${distinct.join(', ')}) without an unanswered attempt`);
    }
  }
  return retryDuplicates;
}

/** C6: offsets of a committed log are consecutive from its start. */
function checkContiguous(log: LogRead, add: Sink): void {
  log.records.forEach((r, i) => {
    if (r.offset !== log.startOffset + i) add('C6', false, partitionKey(log.stream, log.partition), `log ${log.source}: offset ${r.offset} at position ${i} (start ${log.startOffset})`);
  });
}

/** C4 unexpected value, C5 aborted read, over everything read. */
function checkReads(history: History, attempts: ReadonlyMap<string, PublishAttempt>, add: Sink): void {
  const reads = [
    ...history.deliveries.map((d) => ({ key: partitionKey(d.stream, d.partition), offset: d.offset, value: d.value, from: d.source })),
    ...[...history.finalLogs, ...history.replicaLogs].flatMap((log) =>
      log.records.map((r) => ({ key: partitionKey(log.stream, log.partition), offset: r.offset, value: r.value, from: `log ${log.source}` })),
    ),
  ];
  const reported = new Set<string>();
  for (const r of reads) {
    const attempt = attempts.get(r.value);
    const id = `${r.key}@${r.offset}:${r.value}`;
    if (reported.has(id)) continue;
    if (attempt === undefined) {
      reported.add(id);
      add('C4', false, r.key, `offset ${r.offset} holds ${JSON.stringify(r.value.slice(0, 60))}, which nobody published (${r.from})`);
    } else if (attempt.result.type === 'fail') {
      reported.add(id);
      add('C5', false, r.key, `${r.value} read at offset ${r.offset} (${r.from}) although its publish failed with ${attempt.result.code}`);
    } else if (partitionKey(attempt.stream, attempt.partition) !== r.key) {
      reported.add(id);
      add('C4', false, r.key, `${r.value} was published to ${partitionKey(attempt.stream, attempt.partition)} (${r.from})`);
    }
  }
}

/** C7: a publish acknowledged before another was invoked has the smaller offset (O(n log n) sweep). */
function checkRealTimeOrder(attempts: readonly PublishAttempt[], add: Sink): void {
  const byPartition = new Map<string, PublishAttempt[]>();
  for (const a of attempts) {
    if (a.result.type !== 'ok') continue;
    const key = `${partitionKey(a.stream, a.partition)}:${a.ackMode}`;
    const list = byPartition.get(key);
    if (list) list.push(a);
    else byPartition.set(key, [a]);
  }
  for (const [key, oks] of byPartition) {
    const completed = [...oks].sort((x, y) => x.completedMs - y.completedMs);
    const prefixMax: { at: number; offset: number; value: string }[] = [];
    for (const c of completed) {
      const offset = (c.result as { offset: number }).offset;
      const previous = prefixMax[prefixMax.length - 1];
      prefixMax.push(previous && previous.offset >= offset ? { ...previous, at: c.completedMs } : { at: c.completedMs, offset, value: c.value });
    }
    for (const b of oks) {
      // The last completion strictly before b was invoked.
      let lo = 0;
      let hi = prefixMax.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (prefixMax[mid]!.at < b.invokedMs) lo = mid + 1;
        else hi = mid;
      }
      const bound = prefixMax[lo - 1];
      const offset = (b.result as { offset: number }).offset;
      if (bound && offset <= bound.offset) {
        add('C7', b.ackMode !== 'all', key.split(':')[0]!, `${b.value} at offset ${offset} was invoked after ${bound.value} was acknowledged at offset ${bound.offset}`);
      }
    }
  }
}

/** C10 dirty read (a delivered record the final log does not hold there), C9 gap-free delivery per consumer. */
function checkDeliveries(history: History, finalValueAt: (key: string, offset: number) => string | undefined, add: Sink): void {
  const lastBySource = new Map<string, { offset: number; source: string }>();
  for (const d of history.deliveries) {
    const key = partitionKey(d.stream, d.partition);
    const stored = finalValueAt(key, d.offset);
    if (stored !== d.value) add('C10', false, key, `${d.source} delivered ${d.value} at offset ${d.offset}; the final log holds ${stored ?? 'nothing'} there`);
    const consumer = `${key}:${d.source.split('@')[0]}`;
    const last = lastBySource.get(consumer);
    if (last !== undefined && d.offset !== last.offset + 1) {
      // A consumer that resumed at last + 1 on a new leader and was given an offset it had seen
      // (the new leader's high watermark lagging) got a redelivery: reported, not an error.
      const redelivery = d.source !== last.source && d.offset <= last.offset;
      add('C9', redelivery, key, `${d.source} delivered offset ${d.offset} after ${last.offset} (${last.source})${redelivery ? ', a redelivery on resuming' : ''}`);
    }
    lastBySource.set(consumer, { offset: d.offset, source: d.source });
  }
}

/** C11: every replica's committed log equals the leader's, record for record (value and timestamp). */
function checkReplicas(replicas: readonly LogRead[], finals: ReadonlyMap<string, LogRead>, add: Sink): void {
  for (const replica of replicas) {
    const key = partitionKey(replica.stream, replica.partition);
    checkContiguous(replica, add);
    const final = finals.get(key);
    if (!final) continue;
    const finalEnd = final.startOffset + final.records.length;
    const replicaEnd = replica.startOffset + replica.records.length;
    if (replicaEnd < finalEnd) add('C11', false, key, `replica ${replica.source} ends at ${replicaEnd}, the leader at ${finalEnd}`);
    for (const r of replica.records) {
      const f = final.records[r.offset - final.startOffset];
      if (f && (f.value !== r.value || f.timestampNs !== r.timestampNs)) {
        add('C11', false, key, `replica ${replica.source} offset ${r.offset}: ${r.value}@${r.timestampNs}, leader ${f.value}@${f.timestampNs}`);
      }
    }
  }
}

/** A short text of a report for a failing assertion: the counts and the first anomalies of each check. */
export function describeReport(report: CheckReport, max = 5): string {
  const lines = [
    `attempts ${report.attempts}, acked ALL ${report.ackedAll} (lost ${report.lostAll}), acked LEADER ${report.ackedLeader} (lost ${report.lostLeader}), retry duplicates ${report.retryDuplicates}, deliveries ${report.deliveries}`,
  ];
  const byCheck = new Map<string, Anomaly[]>();
  for (const a of report.anomalies) byCheck.set(`${a.check} ${a.severity}`, [...(byCheck.get(`${a.check} ${a.severity}`) ?? []), a]);
  for (const [check, list] of byCheck) {
    lines.push(`${check}: ${list.length}`);
    for (const a of list.slice(0, max)) lines.push(`  ${a.partition} ${a.detail}`);
  }
  return lines.join('\n');
}
