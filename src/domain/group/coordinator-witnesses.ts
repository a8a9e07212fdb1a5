/**
 * The controller's count of members reporting a silent group coordinator (docs/consumers.md
 * "Coordinator failover"), as plain data so that the rule is pure: per group, the generation
 * reported (coordinator and epoch) and when each member last reported it. A report stays valid for
 * the coordinator timeout; a report of another generation starts the count over.
 */
export interface CoordinatorWitnesses {
  readonly coordinator: string;
  readonly epoch: number;
  /** Member id -> when it reported, in the controller's milliseconds. */
  readonly reportedAtMs: ReadonlyMap<string, number>;
}

export interface CoordinatorReport {
  readonly consumer: string;
  readonly coordinator: string;
  readonly epoch: number;
}

/**
 * Liftbridge's quorum for a coordinator failover: more than half of the members
 * (`witnesses > members / 2`), so a group of one fails over on its one report, two need both.
 */
export const coordinatorFailoverReached = (witnesses: number, members: number): boolean => witnesses * 2 > members;

/**
 * Adds a report (already checked with `checkCoordinatorReport`: the group's current generation,
 * sent by a member) to `previous`, drops the reports older than `validForMs` and those of
 * consumers no longer in `members`, and says whether the group's coordinator should change.
 */
export function recordCoordinatorReport(
  previous: CoordinatorWitnesses | undefined,
  report: CoordinatorReport,
  members: readonly string[],
  nowMs: number,
  validForMs: number,
): { readonly witnesses: CoordinatorWitnesses; readonly failover: boolean } {
  const sameGeneration = previous !== undefined && previous.coordinator === report.coordinator && previous.epoch === report.epoch;
  const reportedAtMs = new Map<string, number>();
  if (sameGeneration) {
    for (const [consumer, at] of previous.reportedAtMs) if (nowMs - at <= validForMs && members.includes(consumer)) reportedAtMs.set(consumer, at);
  }
  reportedAtMs.set(report.consumer, nowMs);
  return {
    witnesses: { coordinator: report.coordinator, epoch: report.epoch, reportedAtMs },
    failover: coordinatorFailoverReached(reportedAtMs.size, members.length),
  };
}
