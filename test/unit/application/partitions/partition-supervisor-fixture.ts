import { AesValueEncryption } from '../../../../src/adapters/outbound/crypto/aes-value-encryption';
import { InMemoryMessageTransport } from '../../../../src/adapters/outbound/memory/in-memory-message-transport';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import { NoMetrics } from '../../../../src/adapters/outbound/metrics/no-metrics';
import { ACK_INBOX, inboundMessage } from './partition-leader-fixture';
import type { MetadataGateway } from '../../../../src/application/cluster/metadata-gateway';
import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { PartitionSupervisor } from '../../../../src/application/partitions/partition-supervisor';
import { ALWAYS_HELD } from '../../../../src/application/ports/ack-lease.port';
import { AckMessage, AckPolicy, InboundMessage, Listener } from '../../../../src/application/ports/message-transport.port';
import type { PartitionLog, PartitionLogOptions } from '../../../../src/application/ports/partition-log.port';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { PartitionRef } from '../../../../src/domain/shared/ids';
import { ok } from '../../../../src/domain/shared/result';
import { memorySettings, silentLogger } from '../../../support/memory-broker';
import { registerBroker } from '../../../support/metadata-mothers';
import { flushPromises, VirtualTime } from '../../../support/virtual-time';

/**
 * Servers with the real `PartitionSupervisor`, sharing one metadata log (every server applies
 * every entry, as Raft members do), one NATS and one replication hub, on virtual time. What the
 * partition roles ask of the controller goes to the metadata for real and is recorded.
 */

/** A store the test can make refuse or hold back opens, as a process out of descriptors or a slow disk does. */
export class ControlledStore extends InMemoryPartitionLogStore {
  readonly opened: PartitionLog[] = [];
  opens = 0;
  refuse: (ref: PartitionRef) => Error | null = () => null;
  private gate: Promise<void> | null = null;
  private openGate: () => void = () => undefined;

  /** Opens wait until `release`. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.gate = null;
    this.openGate();
  }

  override async open(ref: PartitionRef, options: PartitionLogOptions): Promise<PartitionLog> {
    this.opens++;
    if (this.gate) await this.gate;
    const refused = this.refuse(ref);
    if (refused) throw refused;
    const log = await super.open(ref, options);
    this.opened.push(log);
    return log;
  }
}

/** NATS whose subscriptions the test can refuse (a permissions error on the partition subject). */
export class RefusingTransport extends InMemoryMessageTransport {
  refuseListen = false;

  override listen(subject: string, queueGroup: string, onMessage: (message: InboundMessage) => void): Promise<Listener> {
    if (this.refuseListen) return Promise.reject(new Error(`permissions violation for subscription to "${subject}"`));
    return super.listen(subject, queueGroup, onMessage);
  }
}

export interface ServerUnderTest {
  readonly id: string;
  readonly metadata: MetadataService;
  readonly supervisor: PartitionSupervisor;
  readonly store: ControlledStore;
  /** What this server's partition roles asked of the controller. */
  readonly requests: MetadataCommand[];
}

export interface World {
  readonly time: VirtualTime;
  readonly transport: RefusingTransport;
  readonly hub: InMemoryReplicationHub;
  readonly servers: ReadonlyMap<string, ServerUnderTest>;
  readonly acks: AckMessage[];
  server(id: string): ServerUnderTest;
  /** Records `command` in the metadata (decided on the first server) and lets every supervisor settle (see `settled`). */
  exec(command: MetadataCommand): Promise<void>;
  /** Every supervisor has finished the reconciliations queued so far (virtual time runs meanwhile). */
  settled(): Promise<unknown>;
  /** A NATS client publishes `id` on `subject`, asking for an ack. */
  publish(subject: string, id: string, ackPolicy?: AckPolicy): void;
  /** [id, offset, ackError] of every ack so far. */
  ackSummary(): [string, number, number][];
  /** Server `id` stops its partitions (its process goes away). */
  stopServer(id: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Lets virtual time run, 10 ms at a time, until `work` settles: a follower role stops between two
 * fetches, and the pause between them is a timer. Fails after `maxMs`.
 */
async function drive<T>(time: VirtualTime, work: Promise<T>, maxMs = 10_000): Promise<T> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  await flushPromises();
  for (let waited = 0; !done; waited += 10) {
    if (waited >= maxMs) throw new Error(`not settled after ${maxMs} virtual ms`);
    await time.advance(10);
  }
  return work;
}

const REPLICATION = { maxLagTimeMs: 10_000, fetchTimeoutMs: 3000, leaderTimeoutMs: 15_000, fetchWaitMs: 500 };

/** Servers `ids` (registered as brokers in that order), started on an empty metadata log. */
export async function startWorld(ids: readonly string[]): Promise<World> {
  const time = new VirtualTime();
  const metadataLog = new InMemoryMetadataLog();
  const transport = new RefusingTransport();
  const hub = new InMemoryReplicationHub({ scheduler: time });
  const servers = new Map<string, ServerUnderTest>();
  for (const id of ids) {
    const settings = memorySettings({ serverId: id, replication: REPLICATION });
    const metadata = new MetadataService(metadataLog, settings, time, silentLogger);
    const requests: MetadataCommand[] = [];
    const gateway = {
      execute: async (command: MetadataCommand) => {
        requests.push(command);
        // Leader reports are counted by the controller's failover, not recorded: not exercised here.
        return command.type === 'ReportLeader' ? ok([]) : metadata.execute(command);
      },
    } as unknown as MetadataGateway;
    const store = new ControlledStore();
    const supervisor = new PartitionSupervisor(
      metadata, store, transport, settings, time, time, silentLogger, new NoMetrics(), hub.connect(id), gateway, ALWAYS_HELD, new AesValueEncryption(null),
    );
    supervisor.watch();
    await metadata.start();
    await supervisor.startRecovered();
    servers.set(id, { id, metadata, supervisor, store, requests });
  }
  const acks: AckMessage[] = [];
  (await transport.openAckInbox(ACK_INBOX)).acks$.subscribe((ack) => acks.push(ack));
  const first = servers.get(ids[0]!)!;
  const settled = (): Promise<unknown> => drive(time, Promise.all([...servers.values()].map((s) => s.supervisor.settled())));
  const world: World = {
    time,
    transport,
    hub,
    servers,
    acks,
    server: (id) => servers.get(id)!,
    exec: async (command) => {
      const result = await first.metadata.execute(command);
      if (!result.ok) throw new Error(`${command.type} refused: ${JSON.stringify(result.error)}`);
      await settled();
    },
    settled,
    publish: (subject, id, ackPolicy = AckPolicy.LEADER) =>
      transport.publishInbound(subject, inboundMessage(id, ackPolicy)),
    ackSummary: () => acks.map((a) => [a.correlationId, a.offset, a.ackError]),
    stopServer: (id) => drive(time, servers.get(id)!.supervisor.stop()),
    stop: async () => {
      await drive(time, Promise.all([...servers.values()].map((s) => s.supervisor.stop())));
      for (const s of servers.values()) await s.metadata.stop();
    },
  };
  for (const id of ids) await world.exec(registerBroker(id));
  return world;
}
