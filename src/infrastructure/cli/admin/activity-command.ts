/**
 * `liftbridge activity`: tails the `__activity` stream (docs/consumers.md "Activity stream"), one
 * line per event, until the stop position, `--count` events, or Ctrl-C.
 */
import { Command, Option } from 'commander';
import { NoSuchStreamError, type LiftbridgeClient } from '../../../client';
import { decodeActivityStreamEvent } from '../../../protocol/api-proto';
import { ProtobufDecodeError } from '../../../protocol/codec-errors';
import { addCommonOptions, commonOptions, parsePositive, type AdminIo, type CommonOptions } from './admin-common';
import { formatActivityEvent } from './activity-format';
import { parseStart, parseStop, toSubscribeOptions, type StartSpec, type StopSpec } from './subscribe-command';

/** The activity stream's name (reserved by the servers; docs/consumers.md "Activity stream"). */
export const ACTIVITY_STREAM_NAME = '__activity';

export interface ActivityCommand extends CommonOptions {
  readonly kind: 'activity';
  readonly from: StartSpec;
  readonly stop?: StopSpec;
  /** Ends after this many events; absent: no limit. */
  readonly count?: number;
}

/** The activity stream is not there: the servers run with `activity.stream.enabled: false`. */
export class ActivityStreamOffError extends Error {
  constructor() {
    super(`the activity stream is off on the servers (no ${ACTIVITY_STREAM_NAME} stream; see activity.stream.enabled)`);
  }
}

export function registerActivityCommand(program: Command, accept: (command: ActivityCommand) => void): void {
  addCommonOptions(
    program
      .command('activity')
      .description('print the activity stream (stream and consumer group operations), one line per event')
      .addOption(
        new Option('--from <position>', 'earliest | latest | new | offset:N | time:ISO').argParser(parseStart).default({ position: 'earliest' }, 'earliest'),
      )
      .addOption(new Option('--stop <position>', 'latest | offset:N | time:ISO (default: run until Ctrl-C)').argParser(parseStop))
      .option('-n, --count <n>', 'stop after n events', parsePositive),
  ).action((flags: CommonOptions & { from: StartSpec; stop?: StopSpec; count?: number }) => {
    accept({
      kind: 'activity',
      ...commonOptions(flags),
      from: flags.from,
      ...(flags.stop === undefined ? {} : { stop: flags.stop }),
      ...(flags.count === undefined ? {} : { count: flags.count }),
    });
  });
}

export async function runActivityCommand(command: ActivityCommand, client: LiftbridgeClient, io: AdminIo): Promise<number> {
  const subscription = client.subscribe(ACTIVITY_STREAM_NAME, toSubscribeOptions({ partition: 0, from: command.from, ...(command.stop ? { stop: command.stop } : {}) }));
  let interrupted = false;
  const removeHandler = io.onInterrupt(() => {
    interrupted = true;
    subscription.close();
  });
  let printed = 0;
  // A controller that lost office before recording its progress leaves an event to be published
  // again: ids only grow, so one not above the last printed is a repeat.
  let lastId = -1n;
  try {
    for await (const message of subscription) {
      let event;
      try {
        event = decodeActivityStreamEvent(message.value);
      } catch (error) {
        if (!(error instanceof ProtobufDecodeError)) throw error;
        io.err(`liftbridge activity: skipped the record at offset ${message.offset}, not an activity event (${error.message})\n`);
        continue;
      }
      if (event.id <= lastId) continue;
      lastId = event.id;
      io.out(`${formatActivityEvent(event, message, command.json)}\n`);
      if (++printed === command.count) break;
    }
  } catch (error) {
    if (error instanceof NoSuchStreamError) throw new ActivityStreamOffError();
    if (!interrupted) throw error; // Ctrl-C is a clean end, whatever the subscription was doing
  } finally {
    removeHandler();
    subscription.close();
  }
  return 0;
}
