/**
 * `liftbridge group list|describe`: inspect the consumer groups (docs/consumers.md "Inspecting
 * groups") through liftbridge-ts's GroupAdmin extension service, which any server answers from its
 * applied metadata. Go Liftbridge servers do not have it (docs/compatibility.md).
 */
import { Command } from 'commander';
import { ConsumerGroupAdmin, type ClientTlsOptions, type DescribeConsumerGroupResponse } from '../../../client';
import { formatDurationMs } from '../../config/go-duration';
import { addCommonOptions, commonOptions, formatTable, toJson, type AdminIo, type CommonOptions } from './admin-common';

export type GroupCommand = CommonOptions & ({ readonly kind: 'group-list' } | { readonly kind: 'group-describe'; readonly groupId: string });

/** What the group commands call; a ConsumerGroupAdmin in the executable, a fake in tests. */
export type GroupAdminApi = Pick<ConsumerGroupAdmin, 'listConsumerGroups' | 'describeConsumerGroup' | 'close'>;

/** Opens the GroupAdmin client; replaced in tests. */
export type ConnectGroupAdmin = (servers: readonly string[], tls?: ClientTlsOptions) => GroupAdminApi;

export const connectGroupAdmin: ConnectGroupAdmin = (servers, tls) =>
  // Few retries, as connectClient: an admin command should fail fast when nothing listens.
  new ConsumerGroupAdmin({ servers, retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 500 }, ...(tls === undefined ? {} : { tls }) });

export const isGroupCommand = (command: { readonly kind: string }): command is GroupCommand => command.kind.startsWith('group-');

/** Adds the `group` command group to `program`; `accept` receives the parsed command. */
export function registerGroupCommands(program: Command, accept: (command: GroupCommand) => void): void {
  const group = program.command('group').description('list consumer groups or describe one (liftbridge-ts servers only)').usage('<command> [options]');

  addCommonOptions(group.command('list').description('list the consumer groups: coordinator, epoch and member count')).action((flags: CommonOptions) =>
    accept({ kind: 'group-list', ...commonOptions(flags) }),
  );

  addCommonOptions(
    group
      .command('describe')
      .description("print a group's coordinator, epoch and consumer timeout, and each member's streams and assigned partitions")
      .argument('<groupId>', 'consumer group id'),
  ).action((groupId: string, flags: CommonOptions) => accept({ kind: 'group-describe', ...commonOptions(flags), groupId }));
}

/** Nanoseconds on the wire as whole milliseconds (the server's setting is in milliseconds). */
const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n);

async function listGroups(admin: GroupAdminApi, io: AdminIo, json: boolean): Promise<void> {
  const groups = await admin.listConsumerGroups();
  if (json) {
    io.out(`${toJson(groups.map((g) => ({ groupId: g.groupId, coordinator: g.coordinator, epoch: g.epoch, memberCount: g.memberCount })))}\n`);
  } else if (groups.length === 0) {
    io.out('no consumer groups\n');
  } else {
    io.out(formatTable(['GROUP', 'COORDINATOR', 'EPOCH', 'MEMBERS'], groups.map((g) => [g.groupId, g.coordinator, String(g.epoch), String(g.memberCount)])));
  }
}

function describeJson(group: DescribeConsumerGroupResponse): string {
  return toJson({
    groupId: group.groupId,
    coordinator: group.coordinator,
    epoch: group.epoch,
    consumerTimeoutMs: nsToMs(group.consumerTimeout),
    members: group.members.map((m) => ({ consumerId: m.consumerId, streams: m.streams, assignments: m.assignments.map((a) => ({ stream: a.stream, partitions: a.partitions })) })),
  });
}

/** The group's fields, then one row per member and stream it consumes (`-` when it owns no partition of it). */
function describeText(group: DescribeConsumerGroupResponse): string {
  const header =
    `group             ${group.groupId}\n` +
    `coordinator       ${group.coordinator}\n` +
    `epoch             ${group.epoch}\n` +
    `consumer timeout  ${formatDurationMs(nsToMs(group.consumerTimeout))}\n` +
    `members           ${group.members.length}\n`;
  if (group.members.length === 0) return header;
  const rows = group.members.flatMap((m) => m.assignments.map((a) => [m.consumerId, a.stream, a.partitions.length === 0 ? '-' : a.partitions.join(',')]));
  return `${header}\n${formatTable(['CONSUMER', 'STREAM', 'PARTITIONS'], rows)}`;
}

/** Runs a parsed group command; returns the exit code (errors are thrown). */
export async function runGroupCommand(command: GroupCommand, admin: GroupAdminApi, io: AdminIo): Promise<number> {
  if (command.kind === 'group-list') {
    await listGroups(admin, io, command.json);
    return 0;
  }
  const group = await admin.describeConsumerGroup(command.groupId);
  io.out(command.json ? `${describeJson(group)}\n` : describeText(group));
  return 0;
}
