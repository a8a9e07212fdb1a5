/**
 * The worked example of docs/consumers.md "A worked example": one member of consumer group
 * `billing`, reading every partition of stream `orders` that the group assigns to it. Start as
 * many as you like, each with its own id; Ctrl-C checkpoints what this member processed and
 * leaves the group, so its partitions move to the others at once.
 *
 *   npm run build && node -r ts-node/register/transpile-only docs/examples/billing-group.ts billing-1
 *
 * Checked by test/integration/client/worked-example.int.spec.ts.
 */
import { LiftbridgeClient, StartPosition, StreamExistsError } from 'liftbridge-ts/client';

async function main(): Promise<void> {
  const consumerId = process.argv[2] ?? `billing-${process.pid}`;
  const client = await LiftbridgeClient.connect({ servers: [process.env.LIFTBRIDGE_ADDR ?? 'localhost:9292'] });
  try {
    await client.createStream('orders', 'orders', { partitions: 6 });
  } catch (error) {
    if (!(error instanceof StreamExistsError)) throw error; // another member created it
  }

  const consumer = client.groupConsumer({
    groupId: 'billing',
    consumerId,
    streams: ['orders'],
    autoOffset: StartPosition.EARLIEST, // a partition the group never checkpointed is read from its start
  });
  const stop = (): void => void consumer.close();
  process.once('SIGINT', stop).once('SIGTERM', stop);

  for await (const order of consumer) {
    // The group's cursor of this partition moves past `order` only after this body ran for it.
    console.log(`${order.stream}/${order.partition}@${order.offset} ${order.value.toString('utf8')}`);
  }
  client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
