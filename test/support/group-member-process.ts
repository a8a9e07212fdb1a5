import { LiftbridgeClient, StartPosition, type GroupConsumer } from '../../src/client';

/**
 * One consumer group member as a process of its own (run by test/support/group-member.ts with
 * `node -r ts-node/register/transpile-only`), so a test can kill -9 it. Argument: the JSON of
 * `MemberArguments`. It writes one JSON line to stdout per event: `joined` once it polled its
 * first assignment, `assigned` whenever the partitions it reads change (checked every 50 ms),
 * `message` per message it was handed (stream, partition, offset, value), `closed` after a
 * SIGTERM made it close the consumer (checkpoint, then LeaveConsumerGroup).
 * Writes to a pipe are synchronous on Linux, so a line is out before the next message is read.
 */
export interface MemberArguments {
  readonly servers: readonly string[];
  readonly groupId: string;
  readonly consumerId: string;
  readonly streams: readonly string[];
  readonly checkpointEveryMs: number;
}

export type MemberEvent =
  | { readonly type: 'joined' }
  | { readonly type: 'assigned'; readonly partitions: readonly string[] }
  | { readonly type: 'message'; readonly stream: string; readonly partition: number; readonly offset: number; readonly value: string }
  | { readonly type: 'closed' };

const emit = (event: MemberEvent): void => void process.stdout.write(`${JSON.stringify(event)}\n`);

async function main(args: MemberArguments): Promise<void> {
  const client = await LiftbridgeClient.connect({
    servers: args.servers,
    // Long enough to ride out a broker kill (leaders move after clustering.broker.timeout).
    retry: { attempts: 30, backoffMs: 100, maxBackoffMs: 500 },
    rpcTimeoutMs: 3000,
  });
  const consumer: GroupConsumer = client.groupConsumer({
    groupId: args.groupId,
    consumerId: args.consumerId,
    streams: args.streams,
    autoOffset: StartPosition.EARLIEST,
    checkpointEveryMs: args.checkpointEveryMs,
  });
  process.once('SIGTERM', () => {
    void consumer.close().finally(() => {
      emit({ type: 'closed' });
      client.close();
      process.exit(0);
    });
  });
  await consumer.start();
  emit({ type: 'joined' });
  let assigned = '';
  setInterval(() => {
    if (consumer.assigned.join() === assigned) return;
    assigned = consumer.assigned.join();
    emit({ type: 'assigned', partitions: consumer.assigned });
  }, 50).unref();
  for await (const m of consumer) {
    emit({ type: 'message', stream: m.stream, partition: m.partition, offset: Number(m.offset), value: m.value.toString('utf8') });
  }
}

main(JSON.parse(process.argv[2]!) as MemberArguments).catch((error: unknown) => {
  process.stderr.write(`group member failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
