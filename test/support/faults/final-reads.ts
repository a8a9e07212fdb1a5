import * as api from '../../../src/protocol/api-types';
import { ApiClient } from '../api-calls';
import { ClusterViews } from './cluster-views';
import { FaultCluster } from './fault-cluster';
import { LogRead } from './history';

/**
 * The end of a scenario (docs/reliability.md): after quiescence, the committed log of every
 * partition read from its leader (the final drain), and from every replica with readISRReplica (C11).
 */
export async function readFinalLogs(
  cluster: FaultCluster,
  streams: readonly { name: string; partitions: number }[],
): Promise<{ finalLogs: LogRead[]; replicaLogs: LogRead[] }> {
  const views = new ClusterViews(cluster);
  const finalLogs: LogRead[] = [];
  const replicaLogs: LogRead[] = [];
  for (const s of streams) {
    for (let p = 0; p < s.partitions; p++) {
      const meta = await views.partition(s.name, p);
      if (!meta) throw new Error(`no metadata for ${s.name}/${p}`);
      const pos = await views.positions(s.name, p, meta.leader);
      if (!pos) throw new Error(`the leader ${meta.leader} of ${s.name}/${p} does not answer`);
      finalLogs.push(await readCommitted(cluster.client(meta.leader), s.name, p, pos.hw, 'leader', false));
      for (const replica of meta.replicas) {
        replicaLogs.push(await readCommitted(cluster.client(replica), s.name, p, pos.hw, replica, true));
      }
    }
  }
  return { finalLogs, replicaLogs };
}

/** Offsets 0..hw of one partition as one broker serves them; what arrived within 15 s if it stalls. */
async function readCommitted(client: ApiClient, stream: string, partition: number, hw: number, source: string, replica: boolean): Promise<LogRead> {
  const records: { offset: number; value: string; timestampNs: bigint }[] = [];
  if (hw < 0) return { stream, partition, source, startOffset: 0, records };
  const call = client.subscribe({
    stream, partition, startPosition: api.StartPosition.EARLIEST, stopPosition: api.StopPosition.STOP_OFFSET, stopOffset: BigInt(hw), readISRReplica: replica,
  });
  let handshake = false;
  call.on('data', (m: api.Message) => {
    if (!handshake) {
      handshake = true;
      return;
    }
    records.push({ offset: Number(m.offset), value: Buffer.from(m.value).toString(), timestampNs: m.timestamp });
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      call.cancel();
      resolve();
    }, 15_000);
    const end = (): void => {
      clearTimeout(timer);
      resolve();
    };
    call.on('error', () => undefined);
    call.on('close', end); // after the last 'data', unlike 'status'
  });
  return { stream, partition, source, startOffset: records[0]?.offset ?? 0, records };
}
