import * as api from '../../../src/protocol/api-types';
import { call } from '../api-calls';
import { waitFor } from '../ports';
import { FaultCluster } from './fault-cluster';

/** What the brokers that are awake say about partitions and the controller. */
export class ClusterViews {
  constructor(private readonly cluster: FaultCluster) {}

  /**
   * A partition's metadata as most awake brokers see it: a broker cut off from NATS still answers
   * gRPC with its stale view, so the majority (or, on a tie, the first answer) wins.
   */
  async partition(stream: string, partition: number, via: readonly string[] = this.cluster.awake()): Promise<api.PartitionMetadata | null> {
    const answers = await Promise.all(
      via.map(async (id) => {
        try {
          const m = await call(this.cluster.client(id).fetchMetadata, this.cluster.client(id), { streams: [stream] }, 1000);
          return m.streamMetadata[0]?.partitions[partition] ?? null;
        } catch {
          return null;
        }
      }),
    );
    const votes = new Map<string, { meta: api.PartitionMetadata; count: number }>();
    for (const meta of answers) {
      if (!meta) continue;
      const key = `${meta.leader}|${[...meta.isr].sort().join(',')}`;
      const vote = votes.get(key) ?? { meta, count: 0 };
      vote.count++;
      votes.set(key, vote);
    }
    let best: { meta: api.PartitionMetadata; count: number } | null = null;
    for (const vote of votes.values()) if (!best || vote.count > best.count) best = vote;
    return best?.meta ?? null;
  }

  async leaderOf(stream: string, partition: number): Promise<string | null> {
    const p = await this.partition(stream, partition);
    return p && p.leader !== '' ? p.leader : null;
  }

  /** The leader's own high watermark and newest offset (null if it does not answer as leader). */
  async positions(stream: string, partition: number, leader: string): Promise<{ hw: number; newest: number } | null> {
    try {
      const m = await call(this.cluster.client(leader).fetchPartitionMetadata, this.cluster.client(leader), { stream, partition }, 1000);
      return { hw: Number(m.metadata!.highWatermark), newest: Number(m.metadata!.newestOffset) };
    } catch {
      return null;
    }
  }

  /** The broker that most recently logged that it became the controller (and has not logged losing it since). */
  controller(): string | undefined {
    let newest: { id: string; time: number } | undefined;
    for (const id of this.cluster.running()) {
      const transitions = this.cluster
        .logLines(id)
        .filter((l) => l.msg === 'this server is now the controller' || l.msg === 'this server is no longer the controller');
      const last = transitions.at(-1);
      if (last?.msg !== 'this server is now the controller') continue;
      const time = Number(last.time);
      if (!newest || time > newest.time) newest = { id, time };
    }
    return newest?.id;
  }

  /**
   * Quiescence: every partition has an awake leader, a full ISR, and everything the leader holds is
   * committed. Fails after `timeoutMs` (a liveness bug).
   */
  async waitQuiescent(streams: readonly { name: string; partitions: number }[], timeoutMs: number): Promise<void> {
    const full = this.cluster.ids.length;
    let last = '';
    const settled = async (): Promise<boolean> => {
      for (const s of streams) {
        for (let p = 0; p < s.partitions; p++) {
          const meta = await this.partition(s.name, p);
          last = `${s.name}/${p}: leader ${meta?.leader} isr [${meta?.isr.join(',')}]`;
          if (!meta || meta.isr.length !== full || !this.cluster.awake().includes(meta.leader)) return false;
          const pos = await this.positions(s.name, p, meta.leader);
          last += ` positions ${JSON.stringify(pos)}`;
          if (!pos || pos.hw !== pos.newest) return false;
        }
      }
      return true;
    };
    await waitFor(settled, timeoutMs, `full ISRs and everything committed on ${streams.map((s) => s.name).join(', ')}`).catch((error: Error) => {
      throw new Error(`${error.message} (last seen: ${last})`);
    });
  }
}
