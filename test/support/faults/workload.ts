import * as grpc from '@grpc/grpc-js';
import { connect, NatsConnection, Subscription } from 'nats';
import { performance } from 'node:perf_hooks';
import * as api from '../../../src/protocol/api-types';
import { decodeAckEnvelope } from '../../../src/protocol/ack-codec';
import { encodePublishEnvelope } from '../../../src/protocol/publish-message-codec';
import { partitionSubject } from '../../../src/domain/stream/stream-names';
import { call } from '../api-calls';
import { ClusterViews } from './cluster-views';
import { FaultCluster } from './fault-cluster';
import { AckMode, History, PublishAttempt, valueOf } from './history';

/**
 * The standard workload of the fault suite (docs/reliability.md): per scenario a stream `<p>-all`
 * (3 partitions, replicationFactor 3, minIsr 2) published with AckPolicy ALL and a stream
 * `<p>-leader` (1 partition, replicationFactor 3) with AckPolicy LEADER.
 * - one gRPC publisher per partition, each sticking to one broker until a publish fails and then
 *   moving to the next (as a client fails over), one publish at a time, at most one per `pacingMs`;
 * - one raw NATS publisher (straight to nats-server, not through a proxy) on the ALL stream with
 *   an AckInbox: it sees every ack a leader sends, so a zombie leader's second ack shows (C13);
 * - one consumer per partition, reading from the leader and resuming at the last offset + 1.
 */
export interface WorkloadStreams {
  readonly all: string;
  readonly allPartitions: number;
  readonly leader: string;
}

const DEFINITE_CODES = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.PERMISSION_DENIED]);
const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Workload {
  private publishing = false;
  private consuming = false;
  private readonly tasks: Promise<void>[] = [];
  private nc: NatsConnection | null = null;
  private inbox: Subscription | null = null;
  private readonly rawPending = new Map<string, PublishAttempt>();
  private readonly views: ClusterViews;

  constructor(
    private readonly cluster: FaultCluster,
    readonly streams: WorkloadStreams,
    readonly history: History,
    private readonly options: { publishTimeoutMs: number; pacingMs: number; rawNats: boolean } = { publishTimeoutMs: 1000, pacingMs: 20, rawNats: true },
  ) {
    this.views = new ClusterViews(cluster);
  }

  async start(): Promise<void> {
    this.publishing = true;
    this.consuming = true;
    const { all, allPartitions, leader } = this.streams;
    for (let p = 0; p < allPartitions; p++) {
      this.tasks.push(this.grpcPublisher(`g${p}`, all, p, 'all', p));
      this.tasks.push(this.consumer(`c${p}`, all, p));
    }
    this.tasks.push(this.grpcPublisher('gl', leader, 0, 'leader', allPartitions));
    this.tasks.push(this.consumer('cl', leader, 0));
    if (this.options.rawNats) await this.startRawPublisher();
  }

  /** Stops publishing; raw publishes still unanswered after the timeout stay `info`. */
  async stopPublishing(): Promise<void> {
    this.publishing = false;
    await sleep(0);
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    this.publishing = false;
    this.consuming = false;
    await Promise.all(this.tasks);
    this.inbox?.unsubscribe();
    this.inbox = null;
    if (this.nc && !this.nc.isClosed()) await this.nc.close();
  }

  private async grpcPublisher(name: string, stream: string, partition: number, ackMode: AckMode, firstVia: number): Promise<void> {
    let seq = 0;
    let attempt = 0;
    let via = firstVia;
    while (this.publishing) {
      const servers = this.cluster.running();
      if (servers.length === 0) {
        await sleep(50);
        continue;
      }
      const id = servers[via % servers.length]!;
      const record: PublishAttempt = {
        stream, partition, ackMode, value: valueOf(name, seq, attempt), message: `${name}-${seq}`, attempt,
        invokedMs: now(), completedMs: Number.NaN, result: { type: 'info', code: 'PENDING' }, ackOffsets: [], via: id,
      };
      this.history.attempts.push(record);
      try {
        const response = await call(this.cluster.client(id).publish, this.cluster.client(id), {
          stream, partition, value: Buffer.from(record.value), ackPolicy: ackMode === 'all' ? api.AckPolicy.ALL : api.AckPolicy.LEADER, expectedOffset: -1n,
        }, this.options.publishTimeoutMs);
        const offset = Number(response.ack!.offset);
        record.completedMs = now();
        record.ackOffsets.push(offset);
        record.result = response.ack!.ackError === api.AckError.OK ? { type: 'ok', offset } : { type: 'fail', code: `ack ${response.ack!.ackError}` };
        seq++;
        attempt = 0;
      } catch (error) {
        const code = (error as grpc.ServiceError).code;
        if (code === undefined) {
          if (!this.publishing) break; // the cluster is stopping
          throw error;
        }
        record.completedMs = now();
        record.result = DEFINITE_CODES.has(code) ? { type: 'fail', code: grpc.status[code] } : { type: 'info', code: grpc.status[code] };
        attempt++;
        via++;
      }
      const wait = record.invokedMs + this.options.pacingMs - now();
      if (wait > 0) await sleep(wait);
    }
  }

  private async startRawPublisher(): Promise<void> {
    this.nc = await connect({ servers: this.cluster.nats.url, reconnectTimeWait: 250, maxReconnectAttempts: -1 });
    const inbox = `faults.acks.${this.cluster.namespace}`;
    this.inbox = this.nc.subscribe(inbox, {
      callback: (_error, msg) => {
        const ack = decodeAckEnvelope(msg.data);
        const record = this.rawPending.get(ack.correlationId);
        if (!record) return;
        const offset = Number(ack.offset);
        record.ackOffsets.push(offset);
        // A late ack still counts: it is an acknowledgement the checker must hold the server to.
        if (record.result.type !== 'ok') {
          record.completedMs = now();
          record.result = ack.ackError === api.AckError.OK ? { type: 'ok', offset } : { type: 'fail', code: `ack ${ack.ackError}` };
        }
      },
    });
    await this.nc.flush();
    this.tasks.push(this.rawPublisher(inbox));
  }

  private async rawPublisher(inbox: string): Promise<void> {
    const { all, allPartitions } = this.streams;
    for (let seq = 0; this.publishing; seq++) {
      const partition = seq % allPartitions;
      const record: PublishAttempt = {
        stream: all, partition, ackMode: 'all', value: valueOf('n', seq, 0), message: `n-${seq}`, attempt: 0,
        invokedMs: now(), completedMs: Number.NaN, result: { type: 'info', code: 'PENDING' }, ackOffsets: [], via: 'nats',
      };
      this.history.attempts.push(record);
      this.rawPending.set(record.value, record);
      try {
        this.nc!.publish(partitionSubject(all, partition), encodePublishEnvelope({
          key: null, value: Buffer.from(record.value), headers: null, ackInbox: inbox, correlationId: record.value, ackPolicy: api.AckPolicy.ALL, expectedOffset: -1,
        }));
      } catch {
        // the client is closed or reconnecting without a buffer: never sent, no answer either way
      }
      await sleep(this.options.pacingMs * 2);
    }
  }

  private async consumer(name: string, stream: string, partition: number): Promise<void> {
    let next = 0;
    while (this.consuming) {
      const leader = await this.views.leaderOf(stream, partition);
      if (leader === null || !this.cluster.awake().includes(leader)) {
        await sleep(100);
        continue;
      }
      next = await this.follow(name, stream, partition, leader, next);
    }
  }

  /** Reads from `leader` until the stream ends or the leader changes, is stopped, or consuming stops. */
  private subscriptions = 0;

  private async follow(name: string, stream: string, partition: number, leader: string, from: number): Promise<number> {
    let next = from;
    const source = `${name}@${leader}#${++this.subscriptions}`;
    const call = this.cluster.client(leader).subscribe({ stream, partition, startPosition: api.StartPosition.OFFSET, startOffset: BigInt(from) });
    let handshake = false;
    // Once it decided to move on, the consumer processes nothing more from this call.
    let cancelled = false;
    call.on('data', (m: api.Message) => {
      if (cancelled) return;
      if (!handshake) {
        handshake = true;
        return;
      }
      const offset = Number(m.offset);
      this.history.deliveries.push({ stream, partition, offset, value: Buffer.from(m.value).toString(), source });
      next = offset + 1;
    });
    // 'close' comes after the last 'data' ('status' may come before buffered data is emitted).
    call.on('error', () => undefined);
    const ended = new Promise<void>((resolve) => call.on('close', () => resolve()));
    let done = false;
    void ended.then(() => (done = true));
    while (!done) {
      await Promise.race([ended, sleep(500)]);
      if (done) break;
      const moved = !this.consuming || this.cluster.paused.has(leader) || (await this.views.leaderOf(stream, partition)) !== leader;
      if (moved) {
        cancelled = true;
        call.cancel();
        await ended;
      }
    }
    cancelled = true;
    return next;
  }
}
