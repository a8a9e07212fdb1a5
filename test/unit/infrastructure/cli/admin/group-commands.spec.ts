import { status } from '@grpc/grpc-js';
import { PassThrough } from 'node:stream';
import { parseAdminInvocation, runAdmin, type AdminCommand } from '../../../../../src/infrastructure/cli/admin/admin-program';
import type { AdminIo } from '../../../../../src/infrastructure/cli/admin/admin-common';
import type { GroupAdminApi } from '../../../../../src/infrastructure/cli/admin/group-commands';
import { LiftbridgeError, type DescribeConsumerGroupResponse } from '../../../../../src/client';

const VERSION = '9.9.9-test';
const argv = (...args: string[]): string[] => ['/usr/bin/node', '/opt/liftbridge/bin/liftbridge.js', ...args];

async function parse(...args: string[]): Promise<AdminCommand> {
  const r = await parseAdminInvocation(argv(...args), VERSION);
  if (r.kind !== 'run') throw new Error(`expected a command, got exit ${r.code}:\n${r.output}`);
  return r.command;
}

function bufferIo(): AdminIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    stdin: new PassThrough(),
    stderrIsTty: false,
    onInterrupt: () => () => undefined,
    stdout: () => out,
    stderr: () => err,
  };
}

const GROUP: DescribeConsumerGroupResponse = {
  groupId: 'billing',
  coordinator: 'b1',
  epoch: 12n,
  consumerTimeout: 15_000_000_000n,
  members: [
    { consumerId: 'c1', streams: ['audit', 'orders'], assignments: [{ stream: 'audit', partitions: [0] }, { stream: 'orders', partitions: [1] }] },
    { consumerId: 'c2', streams: ['orders'], assignments: [{ stream: 'orders', partitions: [0, 2] }] },
  ],
};

const fakeAdmin = (methods: Partial<GroupAdminApi>): GroupAdminApi => ({
  listConsumerGroups: jest.fn().mockRejectedValue(new Error('not expected')),
  describeConsumerGroup: jest.fn().mockRejectedValue(new Error('not expected')),
  close: jest.fn(),
  ...methods,
});

/** Runs the CLI with a fake GroupAdmin; the Liftbridge client must not be needed. */
async function runWith(admin: GroupAdminApi, ...args: string[]) {
  const io = bufferIo();
  const noClient = jest.fn(() => Promise.reject(new Error('the group commands need no Liftbridge client')));
  const code = await runAdmin(argv(...args), io, VERSION, noClient, () => admin);
  expect(noClient).not.toHaveBeenCalled();
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('liftbridge group list|describe', () => {
  it('parses both commands with the common options', async () => {
    expect(await parse('group', 'list', '--servers', 'h:1', '--json')).toMatchObject({ kind: 'group-list', servers: ['h:1'], json: true });
    expect(await parse('group', 'describe', 'billing', '--tls')).toMatchObject({ kind: 'group-describe', groupId: 'billing', json: false, tls: {} });
  });

  it('refuses describe without a group id, as a usage error (exit 2)', async () => {
    const r = await runWith(fakeAdmin({}), 'group', 'describe');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'groupId'");
  });

  it('lists one line per group, or a JSON array, and closes the client', async () => {
    const groups = [
      { groupId: 'billing', coordinator: 'b1', epoch: 12n, memberCount: 2 },
      { groupId: 'search', coordinator: 'b2', epoch: 7n, memberCount: 1 },
    ];
    const admin = fakeAdmin({ listConsumerGroups: jest.fn().mockResolvedValue(groups) });
    expect(await runWith(admin, 'group', 'list')).toEqual({
      code: 0,
      stdout: 'GROUP    COORDINATOR  EPOCH  MEMBERS\nbilling  b1           12     2\nsearch   b2           7      1\n',
      stderr: '',
    });
    expect((await runWith(admin, 'group', 'list', '--json')).stdout).toBe(
      '[{"groupId":"billing","coordinator":"b1","epoch":"12","memberCount":2},{"groupId":"search","coordinator":"b2","epoch":"7","memberCount":1}]\n',
    );
    expect(admin.close).toHaveBeenCalledTimes(2);
  });

  it('says so when there is no group', async () => {
    const admin = fakeAdmin({ listConsumerGroups: jest.fn().mockResolvedValue([]) });
    expect((await runWith(admin, 'group', 'list')).stdout).toBe('no consumer groups\n');
    expect((await runWith(admin, 'group', 'list', '--json')).stdout).toBe('[]\n');
  });

  it('describes a group as a text block, one row per member and stream', async () => {
    const admin = fakeAdmin({ describeConsumerGroup: jest.fn().mockResolvedValue(GROUP) });
    const r = await runWith(admin, 'group', 'describe', 'billing');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'group             billing',
        'coordinator       b1',
        'epoch             12',
        'consumer timeout  15s',
        'members           2',
        '',
        'CONSUMER  STREAM  PARTITIONS',
        'c1        audit   0',
        'c1        orders  1',
        'c2        orders  0,2',
        '',
      ].join('\n'),
    );
    expect(admin.describeConsumerGroup).toHaveBeenCalledWith('billing');
  });

  it('describes a group as a JSON object', async () => {
    const admin = fakeAdmin({ describeConsumerGroup: jest.fn().mockResolvedValue(GROUP) });
    const r = await runWith(admin, 'group', 'describe', 'billing', '--json');
    expect(JSON.parse(r.stdout)).toEqual({
      groupId: 'billing',
      coordinator: 'b1',
      epoch: '12',
      consumerTimeoutMs: 15000,
      members: [
        { consumerId: 'c1', streams: ['audit', 'orders'], assignments: [{ stream: 'audit', partitions: [0] }, { stream: 'orders', partitions: [1] }] },
        { consumerId: 'c2', streams: ['orders'], assignments: [{ stream: 'orders', partitions: [0, 2] }] },
      ],
    });
  });

  it('reports an unknown group with exit 1 and the server\'s message', async () => {
    const admin = fakeAdmin({ describeConsumerGroup: jest.fn().mockRejectedValue(new LiftbridgeError('no such consumer group: nope', status.NOT_FOUND)) });
    expect(await runWith(admin, 'group', 'describe', 'nope')).toEqual({ code: 1, stdout: '', stderr: 'liftbridge group describe: no such consumer group: nope\n' });
    expect(admin.close).toHaveBeenCalled();
  });
});
