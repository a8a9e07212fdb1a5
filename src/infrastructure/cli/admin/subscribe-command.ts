/**
 * `liftbridge subscribe <stream>`: tails one partition from any start position, one line per
 * message, until the stop position, the end of the stream, or Ctrl-C.
 */
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { StartPosition, StopPosition, type LiftbridgeClient, type ReceivedMessage, type SubscribeOptions } from '../../../client';
import { addCommonOptions, commonOptions, formatNs, parseCount, toJson, type AdminIo, type CommonOptions } from './admin-common';

export type StartSpec =
  | { readonly position: 'earliest' | 'latest' | 'new' }
  | { readonly position: 'offset'; readonly offset: bigint }
  | { readonly position: 'time'; readonly timestampNs: bigint };

export type StopSpec =
  | { readonly position: 'latest' }
  | { readonly position: 'offset'; readonly offset: bigint }
  | { readonly position: 'time'; readonly timestampNs: bigint };

export interface SubscribeCommand extends CommonOptions {
  readonly kind: 'subscribe';
  readonly stream: string;
  readonly partition: number;
  readonly from: StartSpec;
  readonly stop?: StopSpec;
}

function parseOffsetOrTime(text: string): { position: 'offset'; offset: bigint } | { position: 'time'; timestampNs: bigint } | null {
  const offset = /^offset:(\d+)$/i.exec(text);
  if (offset) return { position: 'offset', offset: BigInt(offset[1]!) };
  const time = /^time:(.+)$/i.exec(text);
  if (time) {
    const ms = Date.parse(time[1]!);
    if (Number.isNaN(ms)) throw new CommanderArgumentError(`"${time[1]}" is not an ISO-8601 time (e.g. time:2026-11-26T09:00:00Z)`);
    return { position: 'time', timestampNs: BigInt(ms) * 1_000_000n };
  }
  return null;
}

/** `earliest | latest | new | offset:N | time:ISO`. */
export function parseStart(text: string): StartSpec {
  const s = text.trim();
  const lower = s.toLowerCase();
  if (lower === 'earliest' || lower === 'latest' || lower === 'new') return { position: lower };
  const other = parseOffsetOrTime(s);
  if (!other) throw new CommanderArgumentError('must be earliest, latest, new, offset:N or time:ISO-8601');
  return other;
}

/** `latest | offset:N | time:ISO`. */
export function parseStop(text: string): StopSpec {
  const s = text.trim();
  if (s.toLowerCase() === 'latest') return { position: 'latest' };
  const other = parseOffsetOrTime(s);
  if (!other) throw new CommanderArgumentError('must be latest, offset:N or time:ISO-8601');
  return other;
}

export function registerSubscribeCommand(program: Command, accept: (command: SubscribeCommand) => void): void {
  addCommonOptions(
    program
      .command('subscribe')
      .description('print the messages of a partition, one line each (offset, time, key, value)')
      .argument('<stream>', 'stream name')
      .option('-p, --partition <n>', 'partition', parseCount, 0)
      .addOption(
        new Option('--from <position>', 'earliest | latest | new | offset:N | time:ISO').argParser(parseStart).default({ position: 'new' }, 'new'),
      )
      .addOption(new Option('--stop <position>', 'latest | offset:N | time:ISO (default: run until Ctrl-C)').argParser(parseStop)),
  ).action((stream: string, flags: CommonOptions & { partition: number; from: StartSpec; stop?: StopSpec }) => {
    accept({
      kind: 'subscribe',
      ...commonOptions(flags),
      stream,
      partition: flags.partition,
      from: flags.from,
      ...(flags.stop === undefined ? {} : { stop: flags.stop }),
    });
  });
}

function startOptions(from: StartSpec): SubscribeOptions {
  switch (from.position) {
    case 'earliest':
      return { startPosition: StartPosition.EARLIEST };
    case 'latest':
      return { startPosition: StartPosition.LATEST };
    case 'new':
      return { startPosition: StartPosition.NEW_ONLY };
    case 'offset':
      return { startPosition: StartPosition.OFFSET, startOffset: from.offset };
    case 'time':
      return { startPosition: StartPosition.TIMESTAMP, startTimestamp: from.timestampNs };
  }
}

/** The client's subscribe options for a parsed command. */
export function toSubscribeOptions(command: Pick<SubscribeCommand, 'partition' | 'from' | 'stop'>): SubscribeOptions {
  const start = startOptions(command.from);
  const stop = command.stop;
  const end: SubscribeOptions =
    stop === undefined
      ? {}
      : stop.position === 'latest'
        ? { stopPosition: StopPosition.STOP_LATEST }
        : stop.position === 'offset'
          ? { stopPosition: StopPosition.STOP_OFFSET, stopOffset: stop.offset }
          : { stopPosition: StopPosition.STOP_TIMESTAMP, stopTimestamp: stop.timestampNs };
  return { partition: command.partition, ...start, ...end };
}

export function formatMessage(message: ReceivedMessage, json: boolean): string {
  if (json) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers)) headers[name] = value.toString('utf8');
    return toJson({
      stream: message.stream,
      partition: message.partition,
      offset: message.offset,
      timestamp: message.timestamp,
      time: formatNs(message.timestamp),
      key: message.key.length > 0 ? message.key.toString('utf8') : null,
      value: message.value.toString('utf8'),
      headers,
    });
  }
  const key = message.key.length > 0 ? message.key.toString('utf8') : '-';
  return `${message.offset}\t${formatNs(message.timestamp)}\t${key}\t${message.value.toString('utf8')}`;
}

export async function runSubscribeCommand(command: SubscribeCommand, client: LiftbridgeClient, io: AdminIo): Promise<number> {
  const subscription = client.subscribe(command.stream, toSubscribeOptions(command));
  let interrupted = false;
  const removeHandler = io.onInterrupt(() => {
    interrupted = true;
    subscription.close();
  });
  try {
    for await (const message of subscription) io.out(`${formatMessage(message, command.json)}\n`);
  } catch (error) {
    if (!interrupted) throw error; // Ctrl-C is a clean end, whatever the subscription was doing
  } finally {
    removeHandler();
    subscription.close();
  }
  return 0;
}
