import { inject, injectable } from 'inversify';
import { partitionKey } from '../../domain/shared/ids';
import { MetadataService } from '../metadata/metadata-service';
import { Cancellable, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { TOKENS } from '../tokens';

/** How often the controller looks for partitions led by unreachable brokers. */
const SCAN_INTERVAL_MS = 250;

/**
 * Partition leader failover (spec §5.8, issue 4), a controller duty: a partition whose leader is on
 * a broker the controller records as unreachable (`BrokerLiveness`: no heartbeats for
 * `brokerTimeoutMs`, e.g. killed or stopped) gets a new leader from its ISR
 * (`ChangePartitionLeader`: never outside the ISR; the new leader epoch is the entry's index).
 */
@injectable()
export class PartitionFailover {
  private scanner: Cancellable | null = null;
  private readonly inFlight = new Set<string>();

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  becomeController(): void {
    if (this.scanner) return;
    this.scanner = this.scheduler.setInterval(() => this.scan(), SCAN_INTERVAL_MS);
  }

  resignController(): void {
    this.scanner?.cancel();
    this.scanner = null;
  }

  private scan(): void {
    const state = this.metadata.state;
    for (const stream of state.streams.values()) {
      for (const p of stream.partitions) {
        if (p.paused || state.brokers.get(p.leader)?.reachable !== false) continue;
        const key = partitionKey({ stream: p.stream, partition: p.id });
        if (this.inFlight.has(key)) continue;
        this.inFlight.add(key);
        this.logger.warn({ stream: p.stream, partition: p.id, failedLeader: p.leader, isr: p.isr }, 'partition leader unreachable, electing a new one');
        this.metadata
          .execute({ type: 'ChangePartitionLeader', data: { stream: p.stream, partition: p.id, failedLeader: p.leader } })
          .then((result) => {
            if (!result.ok) this.logger.error({ stream: p.stream, partition: p.id, error: result.error }, 'partition leader not replaced');
          })
          .catch((error: unknown) => this.logger.warn({ err: error, stream: p.stream, partition: p.id }, 'partition leader change failed; will retry'))
          .finally(() => this.inFlight.delete(key));
      }
    }
  }
}
