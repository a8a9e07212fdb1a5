import { checkHistory, CheckId } from '../../support/faults/history-checker';
import { AckMode, History, LogRead, PublishAttempt, PublishResult } from '../../support/faults/history';

/** The fault suite's checker (docs/reliability.md) catches each anomaly in a crafted history. */
let clock = 0;
function attempt(value: string, result: PublishResult, options: { ackMode?: AckMode; partition?: number; invokedMs?: number; completedMs?: number; ackOffsets?: number[] } = {}): PublishAttempt {
  const [producer, seq, n] = value.split('-');
  const invokedMs = options.invokedMs ?? (clock += 10);
  return {
    stream: 's',
    partition: options.partition ?? 0,
    ackMode: options.ackMode ?? 'all',
    value,
    message: `${producer}-${seq}`,
    attempt: Number(n),
    invokedMs,
    completedMs: options.completedMs ?? invokedMs + 5,
    result,
    ackOffsets: options.ackOffsets ?? (result.type === 'ok' ? [result.offset] : []),
    via: 'a',
  };
}

const ok = (offset: number): PublishResult => ({ type: 'ok', offset });
const info: PublishResult = { type: 'info', code: 'DEADLINE_EXCEEDED' };
const fail: PublishResult = { type: 'fail', code: 'INVALID_ARGUMENT' };

function log(values: readonly string[], source = 'leader', startOffset = 0, partition = 0): LogRead {
  return { stream: 's', partition, source, startOffset, records: values.map((value, i) => ({ offset: startOffset + i, value, timestampNs: BigInt(1000 + startOffset + i) })) };
}

/** A clean run: three acked messages, one consumer, three agreeing replicas. */
function cleanHistory(): History {
  const values = ['p-0-0', 'p-1-0', 'p-2-0'];
  return {
    attempts: values.map((v, i) => attempt(v, ok(i))),
    deliveries: values.map((value, offset) => ({ stream: 's', partition: 0, offset, value, source: 'c0@a' })),
    finalLogs: [log(values)],
    replicaLogs: ['a', 'b', 'c'].map((id) => log(values, id)),
  };
}

const checksFound = (h: History, severity: 'error' | 'advisory' = 'error'): CheckId[] =>
  [...new Set(checkHistory(h).anomalies.filter((a) => a.severity === severity).map((a) => a.check))].sort();

describe('the history checker', () => {
  it('passes a clean history and counts it', () => {
    const report = checkHistory(cleanHistory());
    expect(report.anomalies).toEqual([]);
    expect(report).toMatchObject({ attempts: 3, ackedAll: 3, lostAll: 0, deliveries: 3, retryDuplicates: 0 });
  });

  it('C1: an acknowledged ALL write missing from the final log, or moved to another offset', () => {
    const h = cleanHistory();
    h.finalLogs[0] = log(['p-0-0', 'p-2-0']);
    h.replicaLogs.length = 0;
    h.deliveries.length = 0;
    const report = checkHistory(h);
    expect(report.lostAll).toBe(2);
    expect(report.errors.filter((a) => a.check === 'C1').map((a) => a.detail)).toEqual([
      'p-1-0 acknowledged at offset 1: holds p-2-0, not in the final log',
      'p-2-0 acknowledged at offset 2: offset missing, found at offset 1 instead',
    ]);
  });

  it('C1 on a LEADER ack is advisory only', () => {
    const h: History = { attempts: [attempt('q-0-0', ok(0), { ackMode: 'leader' })], deliveries: [], finalLogs: [log([])], replicaLogs: [] };
    expect(checksFound(h)).toEqual([]);
    expect(checksFound(h, 'advisory')).toEqual(['C1']);
    expect(checkHistory(h).lostLeader).toBe(1);
  });

  it('C2: two values at one offset, between a consumer and a replica', () => {
    const h = cleanHistory();
    h.attempts.push(attempt('p-3-0', info));
    h.deliveries.push({ stream: 's', partition: 0, offset: 3, value: 'p-3-0', source: 'c0@a' });
    h.attempts.push(attempt('p-4-0', info));
    h.replicaLogs[1] = log(['p-0-0', 'p-1-0', 'p-2-0', 'p-4-0'], 'b');
    expect(checksFound(h)).toContain('C2');
  });

  it('C3: one attempt stored twice is an error; a retry after an unanswered attempt is allowed', () => {
    const h = cleanHistory();
    h.finalLogs[0] = log(['p-0-0', 'p-1-0', 'p-2-0', 'p-2-0']);
    h.replicaLogs.length = 0;
    expect(checksFound(h)).toContain('C3');

    const retried = cleanHistory();
    retried.attempts.push(attempt('p-3-0', info), attempt('p-3-1', ok(4)));
    retried.finalLogs[0] = log(['p-0-0', 'p-1-0', 'p-2-0', 'p-3-0', 'p-3-1']);
    retried.replicaLogs.length = 0;
    expect(checksFound(retried)).toEqual([]);
    expect(checkHistory(retried).retryDuplicates).toBe(1);

    // The retry may land before the unanswered attempt (which a new leader appended late).
    const reordered = cleanHistory();
    reordered.attempts.push(attempt('p-3-0', info), attempt('p-3-1', ok(3)));
    reordered.finalLogs[0] = log(['p-0-0', 'p-1-0', 'p-2-0', 'p-3-1', 'p-3-0']);
    reordered.replicaLogs.length = 0;
    expect(checksFound(reordered)).toEqual([]);

    // Two acknowledged attempts of one message: no client retries after an ack.
    const twiceAcked = cleanHistory();
    twiceAcked.attempts.push(attempt('p-3-0', ok(3)), attempt('p-3-1', ok(4)));
    twiceAcked.finalLogs[0] = log(['p-0-0', 'p-1-0', 'p-2-0', 'p-3-0', 'p-3-1']);
    twiceAcked.replicaLogs.length = 0;
    expect(checksFound(twiceAcked)).toEqual(['C3']);

    // A message stored twice although its first attempt failed definitely: C3 (and C5).
    const noRetryReason = cleanHistory();
    noRetryReason.attempts.push(attempt('p-3-0', fail), attempt('p-3-1', ok(4)));
    noRetryReason.finalLogs[0] = log(['p-0-0', 'p-1-0', 'p-2-0', 'p-3-0', 'p-3-1']);
    noRetryReason.replicaLogs.length = 0;
    expect(checksFound(noRetryReason)).toEqual(['C3', 'C5']);
  });

  it('C4: a value nobody published, or one published to another partition', () => {
    const h = cleanHistory();
    h.deliveries.push({ stream: 's', partition: 0, offset: 3, value: 'garbage', source: 'c0@a' });
    expect(checksFound(h)).toContain('C4');
    const elsewhere = cleanHistory();
    elsewhere.attempts.push(attempt('p-9-0', info, { partition: 1 }));
    elsewhere.finalLogs[0] = log(['p-0-0', 'p-1-0', 'p-2-0', 'p-9-0']);
    elsewhere.replicaLogs.length = 0;
    expect(checksFound(elsewhere)).toEqual(['C4']);
  });

  it('C6: a gap in a committed log', () => {
    const h = cleanHistory();
    h.finalLogs[0] = { ...log(['p-0-0', 'p-1-0', 'p-2-0']), records: [0, 1, 3].map((offset, i) => ({ offset, value: ['p-0-0', 'p-1-0', 'p-2-0'][i]!, timestampNs: 1n })) };
    h.replicaLogs.length = 0;
    h.deliveries.length = 0;
    h.attempts.length = 0;
    h.attempts.push(attempt('p-0-0', info), attempt('p-1-0', info), attempt('p-2-0', info));
    expect(checksFound(h)).toEqual(['C6']);
  });

  it('C7: a publish invoked after another was acknowledged got a smaller offset', () => {
    const h = cleanHistory();
    h.attempts.length = 0;
    h.attempts.push(attempt('p-0-0', ok(1), { invokedMs: 0, completedMs: 10 }), attempt('p-1-0', ok(0), { invokedMs: 20, completedMs: 30 }), attempt('p-2-0', ok(2), { invokedMs: 40, completedMs: 50 }));
    h.finalLogs[0] = log(['p-1-0', 'p-0-0', 'p-2-0']);
    h.replicaLogs.length = 0;
    h.deliveries.length = 0;
    expect(checksFound(h)).toEqual(['C7']);
    // Overlapping publishes may land in either order.
    h.attempts[1] = attempt('p-1-0', ok(0), { invokedMs: 5, completedMs: 30 });
    expect(checksFound(h)).toEqual([]);
  });

  it('C9: a consumer skipped an offset, or was given one twice by one subscription', () => {
    const h = cleanHistory();
    h.deliveries.splice(1, 1);
    expect(checksFound(h)).toEqual(['C9']);
    const repeated = cleanHistory();
    repeated.deliveries.push({ ...repeated.deliveries[2]! });
    expect(checksFound(repeated)).toEqual(['C9']);
  });

  it('C9: a redelivery on resuming at another broker is advisory', () => {
    const h = cleanHistory();
    h.deliveries.push({ stream: 's', partition: 0, offset: 2, value: 'p-2-0', source: 'c0@b#2' });
    expect(checksFound(h)).toEqual([]);
    expect(checksFound(h, 'advisory')).toEqual(['C9']);
  });

  it('C10: a consumer saw a record that was later truncated', () => {
    const h = cleanHistory();
    h.attempts.push(attempt('p-3-0', info));
    h.deliveries.push({ stream: 's', partition: 0, offset: 3, value: 'p-3-0', source: 'c0@a' });
    expect(checksFound(h)).toEqual(['C10']);
  });

  it('C11: a replica that disagrees with the leader, or stops short of it', () => {
    const h = cleanHistory();
    h.replicaLogs[2] = { ...log(['p-0-0', 'p-1-0', 'p-2-0'], 'c'), records: log(['p-0-0', 'p-1-0', 'p-2-0'], 'c').records.map((r) => (r.offset === 2 ? { ...r, timestampNs: 7n } : r)) };
    expect(checksFound(h)).toEqual(['C11']);
    const short = cleanHistory();
    short.replicaLogs[0] = log(['p-0-0', 'p-1-0'], 'a');
    expect(checksFound(short)).toEqual(['C11']);
  });

  it('C13: one attempt acknowledged at two offsets (a zombie leader)', () => {
    const h = cleanHistory();
    h.attempts[2] = attempt('p-2-0', ok(2), { ackOffsets: [2, 7] });
    expect(checksFound(h)).toEqual(['C13']);
    h.attempts[2] = attempt('p-2-0', ok(2), { ackOffsets: [2, 7], ackMode: 'leader' });
    expect(checksFound(h)).toEqual([]);
    expect(checksFound(h, 'advisory')).toEqual(['C13']);
  });
});
