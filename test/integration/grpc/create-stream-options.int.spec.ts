import * as grpc from '@grpc/grpc-js';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Every CreateStream option (CreateStreamRequest fields 6-18) through real gRPC: options that ask
 * for a feature this server does not have are refused with a status naming them; their "off"
 * values and every other option are accepted (docs/compatibility.md, "CreateStream options").
 */
let nats: TestNatsServer;
let server: StartedTestBroker;
let client: ApiClient;
let counter = 0;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url));
  client = connectClient(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.destroy();
  await nats?.stop();
});

type Options = Partial<Omit<api.CreateStreamRequest, 'name' | 'subject' | 'group' | 'replicationFactor' | 'partitions'>>;

const create = (options: Options): Promise<unknown> => {
  const name = `opt-${++counter}`;
  return call(client.createStream, client, { name, subject: `${name}.subject`, ...options });
};

const refusedWith = async (options: Options): Promise<{ code: string; details: string }> => {
  const error = (await create(options).then(
    () => {
      throw new Error(`expected ${JSON.stringify(options, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} to be refused`);
    },
    (e: grpc.ServiceError) => e,
  )) as grpc.ServiceError;
  return { code: grpc.status[error.code]!, details: error.details };
};

const i64 = (value: bigint): api.NullableInt64 => ({ value });
const i32 = (value: number): api.NullableInt32 => ({ value });
const bool = (value: boolean): api.NullableBool => ({ value });

/** [field, a value that asks for a missing feature (or null), values that must be accepted, expected refusal]. */
const OPTIONS: readonly [keyof Options, Options | null, readonly Options[], { code: string; details: string } | null][] = [
  ['retentionMaxBytes', null, [{ retentionMaxBytes: i64(0n) }, { retentionMaxBytes: i64(1_000_000n) }], null],
  ['retentionMaxMessages', null, [{ retentionMaxMessages: i64(0n) }, { retentionMaxMessages: i64(1000n) }], null],
  ['retentionMaxAge', null, [{ retentionMaxAge: i64(0n) }, { retentionMaxAge: i64(3_600_000n) }], null],
  ['cleanerInterval', null, [{ cleanerInterval: i64(60_000n) }], null],
  ['segmentMaxBytes', null, [{ segmentMaxBytes: i64(1_000_000n) }], null],
  ['segmentMaxAge', null, [{ segmentMaxAge: i64(0n) }, { segmentMaxAge: i64(60_000n) }], null],
  ['compactMaxGoroutines', null, [{ compactMaxGoroutines: i32(0) }, { compactMaxGoroutines: i32(4) }], null],
  [
    'compactEnabled',
    { compactEnabled: bool(true) },
    [{ compactEnabled: bool(false) }],
    { code: 'INVALID_ARGUMENT', details: 'compactEnabled: log compaction is not implemented yet' },
  ],
  ['autoPauseTime', null, [{ autoPauseTime: i64(0n) }, { autoPauseTime: i64(30_000n) }], null],
  ['autoPauseDisableIfSubscribers', null, [{ autoPauseDisableIfSubscribers: bool(false) }, { autoPauseDisableIfSubscribers: bool(true) }], null],
  ['minIsr', null, [{ minIsr: i32(1) }], null],
  ['optimisticConcurrencyControl', null, [{ optimisticConcurrencyControl: bool(false) }, { optimisticConcurrencyControl: bool(true) }], null],
  [
    'encryption',
    { encryption: bool(true) },
    [{ encryption: bool(false) }],
    // This server has no LIFTBRIDGE_ENCRYPTION_KEY (docs/encryption.md): Go's refusal.
    { code: 'FAILED_PRECONDITION', details: "Failed on preconditions for stream's encryption handler: invalid AES key size; want 16 or 32, got 0 (LIFTBRIDGE_ENCRYPTION_KEY is not set)" },
  ],
];

describe('CreateStream options', () => {
  it('covers the 13 options of CreateStreamRequest (fields 6-18)', () => {
    expect(OPTIONS.map(([field]) => field)).toHaveLength(13);
  });

  it.each(OPTIONS)('%s', async (_field, needs, accepted, refusal) => {
    for (const options of accepted) await create(options);
    if (needs !== null) expect(await refusedWith(needs)).toEqual(refusal);
  });
});
