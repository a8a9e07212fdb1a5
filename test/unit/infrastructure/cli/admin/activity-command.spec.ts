import { PassThrough } from 'node:stream';
import { LiftbridgeClient, NoSuchStreamError, StartPosition, StopPosition, type ReceivedMessage } from '../../../../../src/client';
import type { AdminIo } from '../../../../../src/infrastructure/cli/admin/admin-common';
import { parseAdminInvocation, runAdmin, type AdminCommand } from '../../../../../src/infrastructure/cli/admin/admin-program';
import { formatActivityEvent } from '../../../../../src/infrastructure/cli/admin/activity-format';
import { ActivityStreamOp, encodeActivityStreamEvent, decodeActivityStreamEvent, type ActivityStreamEvent, type ProtoInit } from '../../../../../src/protocol/api-proto';

const VERSION = '9.9.9-test';
const argv = (...args: string[]): string[] => ['/usr/bin/node', '/opt/liftbridge/bin/liftbridge.js', ...args];
/** 2026-01-01T00:00:00.250Z in Unix nanoseconds. */
const TIME_NS = 1_767_225_600_250_000_000n;
const AT = { offset: 7n, timestamp: TIME_NS };

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

/** An event as the servers write it: encoded, then decoded as the command does. */
const event = (init: ProtoInit<ActivityStreamEvent>): ActivityStreamEvent => decodeActivityStreamEvent(encodeActivityStreamEvent(init));

const record = (offset: bigint, value: Buffer): ReceivedMessage =>
  ({ stream: '__activity', partition: 0, offset, timestamp: TIME_NS, key: Buffer.alloc(0), value, headers: {} }) as unknown as ReceivedMessage;

/** A client whose one subscription yields `messages`, then ends or fails with `end`. */
function clientYielding(messages: readonly ReceivedMessage[], end?: Error): { client: LiftbridgeClient; subscribe: jest.Mock; closed: () => boolean } {
  let closed = false;
  const subscribe = jest.fn(() => ({
    close: () => (closed = true),
    async *[Symbol.asyncIterator]() {
      for (const message of messages) yield message;
      if (end) throw end;
    },
  }));
  return { client: { subscribe, close: jest.fn() } as unknown as LiftbridgeClient, subscribe, closed: () => closed };
}

describe('liftbridge activity: one line per event', () => {
  const cases = [
    [{ id: 3n, op: ActivityStreamOp.CREATE_STREAM, createStreamOp: { stream: 'orders', partitions: [0, 1] } }, 'CREATE_STREAM\tstream=orders partitions=0,1', { stream: 'orders', partitions: [0, 1] }],
    [{ id: 3n, op: ActivityStreamOp.DELETE_STREAM, deleteStreamOp: { stream: 'orders' } }, 'DELETE_STREAM\tstream=orders', { stream: 'orders' }],
    [
      { id: 3n, op: ActivityStreamOp.PAUSE_STREAM, pauseStreamOp: { stream: 'orders', partitions: [1], resumeAll: true } },
      'PAUSE_STREAM\tstream=orders partitions=1 resumeAll=true',
      { stream: 'orders', partitions: [1], resumeAll: true },
    ],
    [{ id: 3n, op: ActivityStreamOp.RESUME_STREAM, resumeStreamOp: { stream: 'orders', partitions: [0, 2] } }, 'RESUME_STREAM\tstream=orders partitions=0,2', { stream: 'orders', partitions: [0, 2] }],
    [
      { id: 3n, op: ActivityStreamOp.SET_STREAM_READONLY, setStreamReadonlyOp: { stream: 'orders', partitions: [0], readonly: false } },
      'SET_STREAM_READONLY\tstream=orders partitions=0 readonly=false',
      { stream: 'orders', partitions: [0], readonly: false },
    ],
    [
      { id: 3n, op: ActivityStreamOp.JOIN_CONSUMER_GROUP, joinConsumerGroupOp: { groupId: 'billing', consumerId: 'c1', streams: ['orders', 'refunds'] } },
      'JOIN_CONSUMER_GROUP\tgroup=billing consumer=c1 streams=orders,refunds',
      { group: 'billing', consumer: 'c1', streams: ['orders', 'refunds'] },
    ],
    [
      { id: 3n, op: ActivityStreamOp.LEAVE_CONSUMER_GROUP, leaveConsumerGroupOp: { groupId: 'billing', consumerId: 'c1', expired: true } },
      'LEAVE_CONSUMER_GROUP\tgroup=billing consumer=c1 expired=true',
      { group: 'billing', consumer: 'c1', expired: true },
    ],
  ] as const;

  it.each(cases.map(([init, text, fields]) => [text, init, fields] as const))('prints the id, the time, then %j', (text, init, fields) => {
    const decoded = event(init);
    expect(formatActivityEvent(decoded, AT, false)).toBe(`3\t2026-01-01T00:00:00.250Z\t${text}`);
    expect(JSON.parse(formatActivityEvent(decoded, AT, true))).toEqual({
      id: '3',
      offset: '7',
      timestamp: TIME_NS.toString(),
      time: '2026-01-01T00:00:00.250Z',
      op: ActivityStreamOp[init.op],
      ...fields,
    });
  });

  it('quotes a value that is empty or would read ambiguously, and names an op it does not know by number', () => {
    const join = event({ id: 9n, op: ActivityStreamOp.JOIN_CONSUMER_GROUP, joinConsumerGroupOp: { groupId: 'night shift', consumerId: 'a=b', streams: [] } });
    expect(formatActivityEvent(join, AT, false)).toBe('9\t2026-01-01T00:00:00.250Z\tJOIN_CONSUMER_GROUP\tgroup="night shift" consumer="a=b" streams=""');
    const future = event({ id: 10n, op: 42 as ActivityStreamOp });
    expect(formatActivityEvent(future, AT, false)).toBe('10\t2026-01-01T00:00:00.250Z\tOP_42\t');
    expect(JSON.parse(formatActivityEvent(future, AT, true))).toMatchObject({ id: '10', op: 'OP_42' });
  });
});

describe('liftbridge activity: options and running', () => {
  const created = (id: bigint, stream: string): Buffer => encodeActivityStreamEvent({ id, op: ActivityStreamOp.CREATE_STREAM, createStreamOp: { stream, partitions: [0] } });

  it('reads __activity partition 0 from the beginning by default, and takes the subscribe positions and a count', async () => {
    expect(await parse('activity')).toEqual({ kind: 'activity', servers: ['localhost:9292'], json: false, from: { position: 'earliest' } });
    expect(await parse('activity', '--from', 'new', '-n', '3', '--json')).toMatchObject({ from: { position: 'new' }, count: 3, json: true });
    expect(await parse('activity', '--from', 'offset:5', '--stop', 'latest')).toMatchObject({ from: { position: 'offset', offset: 5n }, stop: { position: 'latest' } });

    const { client, subscribe } = clientYielding([]);
    expect(await runAdmin(argv('activity', '--from', 'offset:5', '--stop', 'offset:9'), bufferIo(), VERSION, () => Promise.resolve(client))).toBe(0);
    expect(subscribe).toHaveBeenCalledWith('__activity', {
      partition: 0,
      startPosition: StartPosition.OFFSET,
      startOffset: 5n,
      stopPosition: StopPosition.STOP_OFFSET,
      stopOffset: 9n,
    });
  });

  it.each([
    [['--count', '0'], 'greater than 0'],
    [['--from', 'soon'], 'earliest, latest, new'],
    [['orders'], 'too many arguments'],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const io = bufferIo();
    expect(await runAdmin(argv('activity', ...args), io, VERSION, () => Promise.reject(new Error('not called')))).toBe(2);
    expect(io.stderr()).toContain(message);
  });

  it('prints each event once (a republished id is dropped) and stops after --count events', async () => {
    const { client, closed } = clientYielding([
      record(0n, created(2n, '__activity')),
      record(1n, created(5n, 'orders')),
      record(2n, created(5n, 'orders')),
      record(3n, created(8n, 'refunds')),
      record(4n, created(9n, 'never-read')),
    ]);
    const io = bufferIo();
    expect(await runAdmin(argv('activity', '--json', '-n', '3'), io, VERSION, () => Promise.resolve(client))).toBe(0);
    const lines = io.stdout().trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; offset: string; stream: string });
    expect(lines.map((l) => [l.id, l.offset, l.stream])).toEqual([
      ['2', '0', '__activity'],
      ['5', '1', 'orders'],
      ['8', '3', 'refunds'],
    ]);
    expect(closed()).toBe(true);
  });

  it('skips a record that is not an activity event, saying so on stderr', async () => {
    const { client } = clientYielding([record(0n, Buffer.from([0x0a, 0xff])), record(1n, created(4n, 'orders'))]);
    const io = bufferIo();
    expect(await runAdmin(argv('activity'), io, VERSION, () => Promise.resolve(client))).toBe(0);
    expect(io.stderr()).toMatch(/^liftbridge activity: skipped the record at offset 0, not an activity event/);
    expect(io.stdout()).toBe('4\t2026-01-01T00:00:00.250Z\tCREATE_STREAM\tstream=orders partitions=0\n');
  });

  it('says that the activity stream is off when the servers have no __activity (exit 1)', async () => {
    const { client } = clientYielding([], new NoSuchStreamError('no such stream: __activity', 5));
    const io = bufferIo();
    expect(await runAdmin(argv('activity'), io, VERSION, () => Promise.resolve(client))).toBe(1);
    expect(io.stderr()).toBe('liftbridge activity: the activity stream is off on the servers (no __activity stream; see activity.stream.enabled)\n');
    expect(io.stdout()).toBe('');
  });
});
