/**
 * `liftbridge stream create|list|describe|delete|pause|resume|readonly`: stream administration
 * through the client library.
 */
import { Command, Option } from 'commander';
import {
  NoSuchStreamError,
  StartPosition,
  type CreateStreamOptions,
  type LiftbridgeClient,
  type PartitionMetadata,
  type StreamMetadata,
} from '../../../client';
import { StreamMetadataError } from '../../../protocol/api-types';
import {
  addCommonOptions,
  commonOptions,
  formatNs,
  formatTable,
  parseBytes,
  parseCount,
  parseDuration,
  parsePartitionList,
  parsePositive,
  parseReplicationFactor,
  toJson,
  type AdminIo,
  type CommonOptions,
} from './admin-common';

export type StreamCommand = CommonOptions &
  (
    | { readonly kind: 'stream-create'; readonly name: string; readonly subject: string; readonly options: CreateStreamOptions }
    | { readonly kind: 'stream-list' }
    | { readonly kind: 'stream-describe'; readonly name: string }
    | { readonly kind: 'stream-delete'; readonly name: string }
    | { readonly kind: 'stream-pause'; readonly name: string; readonly partitions: readonly number[]; readonly resumeAll: boolean }
    | { readonly kind: 'stream-resume'; readonly name: string; readonly partitions: readonly number[] }
    | { readonly kind: 'stream-readonly'; readonly name: string; readonly partitions: readonly number[]; readonly readonly: boolean }
  );

interface CreateFlags {
  subject: string;
  partitions?: number;
  replicationFactor?: number;
  group?: string;
  retentionMaxBytes?: bigint;
  retentionMaxMessages?: number;
  retentionMaxAge?: number;
  segmentMaxBytes?: bigint;
  segmentMaxAge?: number;
  minIsr?: number;
  concurrencyControl?: boolean;
}

const partitionsOption = (what: string): Option =>
  new Option('--partitions <list>', `${what}, comma separated (default: all)`).argParser(parsePartitionList);

/** Adds the `stream` command group to `program`; `accept` receives the parsed command. */
export function registerStreamCommands(program: Command, accept: (command: StreamCommand) => void): void {
  const stream = program
    .command('stream')
    .description('create, list, describe, delete, pause, resume or make streams readonly')
    .usage('<command> [options]');

  addCommonOptions(
    stream
      .command('create')
      .description('create a stream attached to a NATS subject')
      .argument('<name>', 'stream name')
      .requiredOption('--subject <subject>', 'NATS subject the stream records (wildcards allowed)')
      .option('--partitions <n>', 'number of partitions (default 1)', parsePositive)
      .option('--replication-factor <n>', 'replicas per partition, -1 = every server (default 1)', parseReplicationFactor)
      .option('--group <group>', 'load-balance group: each message goes to one stream of it')
      .option('--retention-max-bytes <size>', 'retention limit in bytes (e.g. 1GiB)', parseBytes)
      .option('--retention-max-messages <n>', 'retention limit in messages', parseCount)
      .option('--retention-max-age <duration>', 'retention limit in age (e.g. 24h)', parseDuration)
      .option('--segment-max-bytes <size>', 'roll segments at this size (e.g. 64MiB)', parseBytes)
      .option('--segment-max-age <duration>', 'roll segments at this age (e.g. 1h)', parseDuration)
      .option('--min-isr <n>', 'minimum in-sync replicas for AckPolicy.ALL', parsePositive)
      .option('--concurrency-control', 'enable optimistic concurrency control (expected offsets)'),
  ).action((name: string, flags: CreateFlags & CommonOptions) => {
    const options: CreateStreamOptions = {
      ...(flags.partitions === undefined ? {} : { partitions: flags.partitions }),
      ...(flags.replicationFactor === undefined ? {} : { replicationFactor: flags.replicationFactor }),
      ...(flags.group === undefined ? {} : { group: flags.group }),
      ...(flags.retentionMaxBytes === undefined ? {} : { retentionMaxBytes: flags.retentionMaxBytes }),
      ...(flags.retentionMaxMessages === undefined ? {} : { retentionMaxMessages: flags.retentionMaxMessages }),
      ...(flags.retentionMaxAge === undefined ? {} : { retentionMaxAgeMs: flags.retentionMaxAge }),
      ...(flags.segmentMaxBytes === undefined ? {} : { segmentMaxBytes: flags.segmentMaxBytes }),
      ...(flags.segmentMaxAge === undefined ? {} : { segmentMaxAgeMs: flags.segmentMaxAge }),
      ...(flags.minIsr === undefined ? {} : { minIsr: flags.minIsr }),
      ...(flags.concurrencyControl ? { optimisticConcurrencyControl: true } : {}),
    };
    accept({ kind: 'stream-create', ...commonOptions(flags), name, subject: flags.subject, options });
  });

  addCommonOptions(stream.command('list').description('list the streams')).action((flags: CommonOptions) =>
    accept({ kind: 'stream-list', ...commonOptions(flags) }),
  );

  addCommonOptions(
    stream
      .command('describe')
      .description('show a stream and its partitions (leader, replicas, ISR, offsets, state)')
      .argument('<name>', 'stream name'),
  ).action((name: string, flags: CommonOptions) => accept({ kind: 'stream-describe', ...commonOptions(flags), name }));

  addCommonOptions(stream.command('delete').description('delete a stream and its data').argument('<name>', 'stream name')).action(
    (name: string, flags: CommonOptions) => accept({ kind: 'stream-delete', ...commonOptions(flags), name }),
  );

  addCommonOptions(
    stream
      .command('pause')
      .description('pause partitions; a publish to a paused partition resumes it')
      .argument('<name>', 'stream name')
      .addOption(partitionsOption('partitions to pause'))
      .option('--resume-all', 'a publish to any partition resumes them all', false),
  ).action((name: string, flags: CommonOptions & { partitions?: number[]; resumeAll: boolean }) =>
    accept({ kind: 'stream-pause', ...commonOptions(flags), name, partitions: flags.partitions ?? [], resumeAll: flags.resumeAll }),
  );

  addCommonOptions(
    stream
      .command('resume')
      .description('resume paused partitions (by subscribing with resume)')
      .argument('<name>', 'stream name')
      .addOption(partitionsOption('partitions to resume')),
  ).action((name: string, flags: CommonOptions & { partitions?: number[] }) =>
    accept({ kind: 'stream-resume', ...commonOptions(flags), name, partitions: flags.partitions ?? [] }),
  );

  addCommonOptions(
    stream
      .command('readonly')
      .description('make partitions readonly (or writable again with --off)')
      .argument('<name>', 'stream name')
      .option('--off', 'clear the readonly flag', false)
      .addOption(partitionsOption('partitions to change')),
  ).action((name: string, flags: CommonOptions & { partitions?: number[]; off: boolean }) =>
    accept({ kind: 'stream-readonly', ...commonOptions(flags), name, partitions: flags.partitions ?? [], readonly: !flags.off }),
  );
}

/** The partitions to act on: the given ones, or every partition of the stream. */
async function targetPartitions(client: LiftbridgeClient, name: string, given: readonly number[]): Promise<number[]> {
  if (given.length > 0) return [...given];
  const stream = await describeStream(client, name);
  return Object.values(stream.partitions)
    .map((p) => p.id)
    .sort((a, b) => a - b);
}

async function describeStream(client: LiftbridgeClient, name: string): Promise<StreamMetadata> {
  const response = await client.fetchMetadata([name]);
  const stream = response.streamMetadata.find((s) => s.name === name);
  if (!stream || stream.error !== StreamMetadataError.OK) throw new NoSuchStreamError(`no such stream: ${name}`, undefined);
  return stream;
}

const partitionText = (partitions: readonly number[]): string =>
  partitions.length === 0 ? 'all partitions' : `partition${partitions.length === 1 ? '' : 's'} ${partitions.join(',')}`;

/** `stream list`: every stream, by name, as a table or JSON. */
async function listStreams(client: LiftbridgeClient, io: AdminIo, json: boolean): Promise<void> {
  const response = await client.fetchMetadata();
  const streams = [...response.streamMetadata].filter((s) => s.error === StreamMetadataError.OK).sort((a, b) => a.name.localeCompare(b.name));
  if (json) {
    io.out(`${toJson(streams.map((s) => ({ name: s.name, subject: s.subject, partitions: Object.keys(s.partitions).length, creationTimestamp: s.creationTimestamp })))}\n`);
  } else if (streams.length === 0) {
    io.out('no streams\n');
  } else {
    io.out(
      formatTable(
        ['NAME', 'SUBJECT', 'PARTITIONS', 'CREATED'],
        streams.map((s) => [s.name, s.subject, String(Object.keys(s.partitions).length), formatNs(s.creationTimestamp)]),
      ),
    );
  }
}

/** `stream describe`: the stream and each partition as its leader sees it, as a table or JSON. */
async function printStream(client: LiftbridgeClient, io: AdminIo, name: string, json: boolean): Promise<void> {
  const stream = await describeStream(client, name);
  const partitions: PartitionMetadata[] = [];
  for (const p of Object.values(stream.partitions).sort((a, b) => a.id - b.id)) {
    // The leader's own view carries the current high watermark and newest offset.
    partitions.push(await client.fetchPartitionMetadata(name, p.id).catch(() => p));
  }
  if (json) {
    const described = partitions.map((p) => ({
      id: p.id,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      highWatermark: p.highWatermark,
      newestOffset: p.newestOffset,
      paused: p.paused,
      readonly: p.readonly,
    }));
    io.out(`${toJson({ name: stream.name, subject: stream.subject, creationTimestamp: stream.creationTimestamp, partitions: described })}\n`);
    return;
  }
  io.out(`stream   ${stream.name}\nsubject  ${stream.subject}\ncreated  ${formatNs(stream.creationTimestamp)}\n\n`);
  io.out(
    formatTable(
      ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'HW', 'NEWEST', 'PAUSED', 'READONLY'],
      partitions.map((p) => [
        String(p.id),
        p.leader,
        p.replicas.join(','),
        p.isr.join(','),
        String(p.highWatermark),
        String(p.newestOffset),
        p.paused ? 'yes' : 'no',
        p.readonly ? 'yes' : 'no',
      ]),
    ),
  );
}

/** Runs a parsed stream command; returns the exit code (errors are thrown). */
export async function runStreamCommand(command: StreamCommand, client: LiftbridgeClient, io: AdminIo): Promise<number> {
  const report = (json: Record<string, unknown>, text: string): void => io.out(command.json ? `${toJson(json)}\n` : `${text}\n`);
  switch (command.kind) {
    case 'stream-create': {
      await client.createStream(command.name, command.subject, command.options);
      const partitions = command.options.partitions ?? 1;
      report(
        { ok: true, stream: command.name, subject: command.subject, partitions },
        `created stream ${command.name} (subject ${command.subject}, ${partitions} partition${partitions === 1 ? '' : 's'})`,
      );
      return 0;
    }
    case 'stream-list':
      await listStreams(client, io, command.json);
      return 0;
    case 'stream-describe':
      await printStream(client, io, command.name, command.json);
      return 0;
    case 'stream-delete':
      await client.deleteStream(command.name);
      report({ ok: true, stream: command.name, deleted: true }, `deleted stream ${command.name}`);
      return 0;
    case 'stream-pause':
      await client.pauseStream(command.name, { partitions: command.partitions, resumeAll: command.resumeAll });
      report(
        { ok: true, stream: command.name, paused: command.partitions.length === 0 ? 'all' : command.partitions, resumeAll: command.resumeAll },
        `paused ${partitionText(command.partitions)} of stream ${command.name}`,
      );
      return 0;
    case 'stream-resume': {
      // The API has no resume call: a subscription with `resume` resumes its paused partition.
      const partitions = await targetPartitions(client, command.name, command.partitions);
      for (const partition of partitions) {
        const subscription = client.subscribe(command.name, { partition, resume: true, startPosition: StartPosition.NEW_ONLY });
        try {
          await subscription.ready;
        } finally {
          subscription.close();
        }
      }
      report({ ok: true, stream: command.name, resumed: partitions }, `resumed ${partitionText(partitions)} of stream ${command.name}`);
      return 0;
    }
    case 'stream-readonly':
      await client.setStreamReadonly(command.name, { partitions: command.partitions, readonly: command.readonly });
      report(
        { ok: true, stream: command.name, partitions: command.partitions.length === 0 ? 'all' : command.partitions, readonly: command.readonly },
        `${command.readonly ? 'made' : 'cleared readonly on'} ${partitionText(command.partitions)} of stream ${command.name}${command.readonly ? ' readonly' : ''}`,
      );
      return 0;
  }
}
