/**
 * `liftbridge publish <stream> [value...]`: publishes each value argument as a message, or with no
 * values each line of stdin, pipelined through an AsyncPublisher; prints one line per ack.
 */
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import * as readline from 'node:readline';
import { AckPolicy, byKey, type Ack, type LiftbridgeClient, type PublishOptions, type PublishTicket } from '../../../client';
import { addCommonOptions, commonOptions, parseCount, toJson, type AdminIo, type CommonOptions } from './admin-common';

export interface PublishCommand extends CommonOptions {
  readonly kind: 'publish';
  readonly stream: string;
  /** Null: read one message per line from stdin. */
  readonly values: readonly string[] | null;
  readonly key?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly partition?: number;
  readonly ackPolicy: AckPolicy;
}

const ACK_POLICIES: Readonly<Record<string, AckPolicy>> = { leader: AckPolicy.LEADER, all: AckPolicy.ALL, none: AckPolicy.NONE };

export function parseAckPolicy(text: string): AckPolicy {
  const policy = ACK_POLICIES[text.trim().toLowerCase()];
  if (policy === undefined) throw new CommanderArgumentError('must be leader, all or none');
  return policy;
}

/** `name=value`, repeatable. */
export function parseHeader(text: string, previous: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CommanderArgumentError('must be name=value');
  return { ...(previous ?? {}), [text.slice(0, eq)]: text.slice(eq + 1) };
}

/** Window of the pipelined publisher. */
const WINDOW = 256;

export function registerPublishCommand(program: Command, accept: (command: PublishCommand) => void): void {
  addCommonOptions(
    program
      .command('publish')
      .description('publish messages: the value arguments, or else one per line of stdin')
      .argument('<stream>', 'stream name')
      .argument('[value...]', 'message values (default: read lines from stdin)')
      .option('-k, --key <key>', 'message key (picks the partition by key unless --partition)')
      .addOption(new Option('-H, --header <name=value>', 'message header, repeatable').argParser(parseHeader))
      .option('-p, --partition <n>', 'partition (default: by key, else 0)', parseCount)
      .addOption(new Option('--ack-policy <policy>', 'leader | all | none').argParser(parseAckPolicy).default(AckPolicy.LEADER, 'leader')),
  ).action(
    (
      stream: string,
      values: string[],
      flags: CommonOptions & { key?: string; header?: Record<string, string>; partition?: number; ackPolicy: AckPolicy },
    ) => {
      accept({
        kind: 'publish',
        ...commonOptions(flags),
        stream,
        values: values.length > 0 ? values : null,
        ...(flags.key === undefined ? {} : { key: flags.key }),
        headers: flags.header ?? {},
        ...(flags.partition === undefined ? {} : { partition: flags.partition }),
        ackPolicy: flags.ackPolicy,
      });
    },
  );
}

async function* lines(io: AdminIo): AsyncGenerator<string> {
  const reader = readline.createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of reader) yield line;
  } finally {
    reader.close();
  }
}

async function* values(command: PublishCommand, io: AdminIo): AsyncGenerator<string> {
  if (command.values) yield* command.values;
  else yield* lines(io);
}

function ackLine(command: PublishCommand, ticket: PublishTicket, ack: Ack | undefined): string {
  if (command.json) {
    return toJson({ stream: command.stream, partition: ticket.partition, offset: ack?.offset ?? null, correlationId: ticket.correlationId });
  }
  return ack
    ? `published to ${command.stream}/${ticket.partition} at offset ${ack.offset}`
    : `published to ${command.stream}/${ticket.partition} (ack policy none: no offset)`;
}

/** Publishes and prints acks in order; the first failure ends the command (exit 1). */
export async function runPublishCommand(command: PublishCommand, client: LiftbridgeClient, io: AdminIo): Promise<number> {
  const publisher = client.asyncPublisher({ maxInFlight: WINDOW });
  const options: PublishOptions = {
    headers: command.headers,
    ackPolicy: command.ackPolicy,
    ...(command.key === undefined ? {} : { key: command.key, partitioner: byKey }),
    ...(command.partition === undefined ? {} : { partition: command.partition }),
  };
  const pending: PublishTicket[] = [];
  let failure: unknown = null;
  const printReady = async (limit: number): Promise<void> => {
    while (pending.length > limit) {
      const ticket = pending.shift()!;
      const ack = await ticket.ack;
      io.out(`${ackLine(command, ticket, ack)}\n`);
    }
  };
  let count = 0;
  try {
    for await (const value of values(command, io)) {
      const ticket = await publisher.send(command.stream, value, options);
      ticket.ack.catch(() => undefined); // observed in order by printReady
      pending.push(ticket);
      count++;
      await printReady(WINDOW);
    }
    await printReady(0);
  } catch (error) {
    failure = error;
    for (const ticket of pending) ticket.ack.catch(() => undefined);
  } finally {
    await publisher.close(failure === null ? undefined : 0);
  }
  if (failure !== null) throw failure;
  if (count === 0) io.err('publish: nothing to publish (no value arguments and stdin was empty)\n');
  return 0;
}
