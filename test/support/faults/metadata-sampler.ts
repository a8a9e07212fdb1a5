import { ClusterViews } from './cluster-views';

/**
 * Samples every partition's leader and ISR every `intervalMs`: counts ISR shrinks and leader
 * changes, to tell a spurious shrink storm or failover from a quiet run (docs/reliability.md
 * "Results": leader changes and shrinks per scenario).
 */
export class MetadataSampler {
  private timer: NodeJS.Timeout | null = null;
  private sampling: Promise<void> = Promise.resolve();
  private readonly last = new Map<string, { leader: string; isr: number }>();
  isrShrinks = 0;
  leaderChanges = 0;
  /** Samples in which some partition had fewer in-sync replicas than replicas. */
  shrunkSamples = 0;

  constructor(
    private readonly views: ClusterViews,
    private readonly partitions: readonly { stream: string; partition: number }[],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample());
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sampling;
  }

  private async sample(): Promise<void> {
    let shrunk = false;
    for (const { stream, partition } of this.partitions) {
      const meta = await this.views.partition(stream, partition);
      if (!meta) continue;
      const key = `${stream}/${partition}`;
      const previous = this.last.get(key);
      if (previous && meta.isr.length < previous.isr) this.isrShrinks++;
      if (previous && meta.leader !== previous.leader) this.leaderChanges++;
      if (meta.isr.length < meta.replicas.length) shrunk = true;
      this.last.set(key, { leader: meta.leader, isr: meta.isr.length });
    }
    if (shrunk) this.shrunkSamples++;
  }
}
