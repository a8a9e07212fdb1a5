import { coordinatorFailoverReached, CoordinatorWitnesses, recordCoordinatorReport } from '../../../../src/domain/group/coordinator-witnesses';

const VALID_MS = 15_000;

describe('coordinator witnesses (docs/consumers.md "Coordinator failover")', () => {
  it('needs more than half of the members: 1 of 1, 2 of 2, 2 of 3, 3 of 4', () => {
    expect([1, 2, 3, 4].map((members) => [0, 1, 2, 3, 4].filter((w) => coordinatorFailoverReached(w, members))[0])).toEqual([1, 2, 2, 3]);
  });

  it('counts reports of one generation within the timeout, once per member', () => {
    const members = ['m1', 'm2', 'm3'];
    const first = recordCoordinatorReport(undefined, { consumer: 'm1', coordinator: 'a', epoch: 7 }, members, 1_000, VALID_MS);
    expect(first.failover).toBe(false);
    const again = recordCoordinatorReport(first.witnesses, { consumer: 'm1', coordinator: 'a', epoch: 7 }, members, 2_000, VALID_MS);
    expect(again.failover).toBe(false);
    const second = recordCoordinatorReport(again.witnesses, { consumer: 'm2', coordinator: 'a', epoch: 7 }, members, 3_000, VALID_MS);
    expect(second.failover).toBe(true);
  });

  it('forgets reports older than the timeout, of members that left, and of another generation', () => {
    const members = ['m1', 'm2', 'm3'];
    const old: CoordinatorWitnesses = { coordinator: 'a', epoch: 7, reportedAtMs: new Map([['m1', 0]]) };
    expect(recordCoordinatorReport(old, { consumer: 'm2', coordinator: 'a', epoch: 7 }, members, VALID_MS + 1, VALID_MS).failover).toBe(false);
    expect(recordCoordinatorReport(old, { consumer: 'm2', coordinator: 'a', epoch: 7 }, ['m2', 'm3', 'm4'], 10, VALID_MS).failover).toBe(false);
    const newer = recordCoordinatorReport(old, { consumer: 'm2', coordinator: 'b', epoch: 9 }, members, 10, VALID_MS);
    expect(newer.failover).toBe(false);
    expect([...newer.witnesses.reportedAtMs.keys()]).toEqual(['m2']);
    expect(recordCoordinatorReport(old, { consumer: 'm2', coordinator: 'a', epoch: 7 }, members, 10, VALID_MS).failover).toBe(true);
  });
});
