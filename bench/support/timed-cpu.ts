/**
 * The bench process's own CPU (user + system) during the timed parts of a case, not its setup
 * (stream creation, a pre-fill): the client's cost per message, reported for every case
 * (docs/benchmarks.md "Clients"). The timed loops call `start` and `stop`; the runner takes the sum.
 */
let sumUs = 0;
let since: NodeJS.CpuUsage | null = null;

export const timedCpu = {
  start(): void {
    since = process.cpuUsage();
  },
  stop(): void {
    if (since === null) return;
    const used = process.cpuUsage(since);
    sumUs += used.user + used.system;
    since = null;
  },
  /** Milliseconds recorded since the last call (null when nothing was timed), and starts over. */
  take(): number | null {
    const ms = since === null && sumUs === 0 ? null : sumUs / 1000;
    sumUs = 0;
    since = null;
    return ms;
  },
};
