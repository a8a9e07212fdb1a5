/**
 * Model-based test: random command sequences run against each adapter and against a plain array
 * model; after every command the positions and every readable record must agree with the model.
 * fast-check shrinks a failure to a minimal sequence and prints its seed for replay.
 */
import fc from 'fast-check';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../src/application/ports/logger.port';
import { PartitionLog, PartitionLogOptions, PartitionLogStore, SyncPolicy } from '../../../src/application/ports/partition-log.port';
import { decodeMessageSet } from '../../../src/adapters/codec/message-set';
import { FilesystemPartitionLogStore } from '../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { InMemoryPartitionLogStore } from '../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { openDescriptorsUnder } from '../../support/open-descriptors';

type Command =
  | { kind: 'append'; batches: number[] }
  | { kind: 'read'; from: number; span: number; maxBytes: number }
  | { kind: 'setHighWatermark'; back: number }
  | { kind: 'truncate'; back: number }
  | { kind: 'retention' }
  | { kind: 'beginEpoch'; step: number }
  | { kind: 'reopen' };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), batches: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), from: fc.integer({ min: -2, max: 40 }), span: fc.integer({ min: -1, max: 10 }), maxBytes: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setHighWatermark' as const), back: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retention' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('beginEpoch' as const), step: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
);

/** The model: the records by offset, and the positions. */
interface Model {
  values: Map<number, string>;
  oldest: number;
  newest: number;
  hw: number;
  epoch: number;
}

const ref = { stream: 'model', partition: 0 };
const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

interface Harness {
  open(options: PartitionLogOptions): Promise<PartitionLog>;
  reopenStore(): void;
  cleanup(): Promise<void>;
}

async function runCommands(harness: Harness, syncPolicy: SyncPolicy, commands: Command[]): Promise<void> {
  const options: PartitionLogOptions = {
    segmentMaxBytes: 300,
    segmentMaxAgeMs: 0,
    retentionMaxBytes: 0,
    retentionMaxMessages: 7,
    retentionMaxAgeMs: 0,
    syncPolicy,
    syncIntervalMs: 5,
  };
  const model: Model = { values: new Map(), oldest: -1, newest: -1, hw: -1, epoch: 1 };
  let log = await harness.open(options);
  let counter = 0;
  try {
    for (const command of commands) {
      switch (command.kind) {
        case 'append': {
          const pending = command.batches.map((n) => {
            const values = Array.from({ length: n }, () => `r${counter++}`);
            const p = log.append(values.map((v) => ({ key: null, value: Buffer.from(v), headers: null, subject: 'm', reply: '' })), BigInt(counter), model.epoch);
            expect(p.firstOffset).toBe(model.newest + 1);
            values.forEach((v, i) => model.values.set(p.firstOffset + i, v));
            model.newest = p.lastOffset;
            if (model.oldest < 0) model.oldest = p.firstOffset;
            return p.durable;
          });
          await Promise.all(pending);
          break;
        }
        case 'read': {
          const maxOffset = command.from + command.span;
          const batch = await log.read(command.from, maxOffset, command.maxBytes);
          const start = Math.max(command.from, model.oldest);
          const limit = Math.min(maxOffset, model.newest);
          if (model.oldest < 0 || start > limit) {
            expect(batch).toBeNull();
            break;
          }
          expect(batch).not.toBeNull();
          const entries = decodeMessageSet(batch!.bytes);
          expect(entries[0]!.offset).toBe(start);
          expect(entries[entries.length - 1]!.offset).toBeLessThanOrEqual(limit);
          expect(entries.length === 1 || batch!.bytes.length <= command.maxBytes).toBe(true);
          for (const e of entries) expect(e.value!.toString()).toBe(model.values.get(e.offset));
          break;
        }
        case 'setHighWatermark': {
          const target = model.newest - command.back;
          if (target < -1) break;
          log.setHighWatermark(target);
          model.hw = Math.max(model.hw, target);
          break;
        }
        case 'truncate': {
          const offset = Math.max(0, model.newest + 1 - command.back);
          await log.truncateFrom(offset);
          if (offset <= model.newest) {
            for (const o of [...model.values.keys()]) if (o >= offset) model.values.delete(o);
            if (offset <= model.oldest) model.oldest = offset === 0 ? -1 : offset;
            model.newest = offset - 1;
            model.hw = Math.min(model.hw, offset - 1);
          }
          break;
        }
        case 'retention': {
          await log.enforceRetention(BigInt(counter));
          const oldest = log.oldestOffset;
          expect(oldest).toBeGreaterThanOrEqual(model.oldest);
          if (oldest !== model.oldest) expect(oldest).toBeLessThanOrEqual(model.hw + 1); // never past the HW
          for (const o of [...model.values.keys()]) if (o < oldest) model.values.delete(o);
          model.oldest = oldest;
          break;
        }
        case 'beginEpoch':
          model.epoch = Math.max(model.epoch, log.lastLeaderEpoch) + command.step;
          log.beginLeaderEpoch(model.epoch);
          break;
        case 'reopen':
          await log.close();
          harness.reopenStore();
          log = await harness.open(options);
          break;
      }
      expect([log.oldestOffset, log.newestOffset, log.highWatermark]).toEqual([model.oldest, model.newest, model.hw]);
      expect(log.durableOffset).toBe(model.newest);
    }
    // Everything retained reads back in order.
    const seen: string[] = [];
    for (let next = 0; ; ) {
      const batch = await log.read(next, model.newest, 1 << 20);
      if (batch === null) break;
      for (const e of decodeMessageSet(batch.bytes)) seen.push(e.value!.toString());
      next = batch.lastOffset + 1;
    }
    expect(seen).toEqual([...model.values.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v));
  } finally {
    await log.close();
  }
}

const commandsArb = fc.array(commandArb, { minLength: 1, maxLength: 30 });

describe('PartitionLog adapters against an array model', () => {
  it('in-memory', async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb, async (commands) => {
        const store: PartitionLogStore = new InMemoryPartitionLogStore();
        await runCommands({ open: (o) => store.open(ref, o), reopenStore: () => undefined, cleanup: async () => undefined }, 'always', commands);
      }),
      { numRuns: 150 },
    );
  });

  it('filesystem', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<SyncPolicy>('always', 'interval', 'never'), commandsArb, async (policy, commands) => {
        const dataDir = await mkdtemp(join(tmpdir(), 'liftbridge-model-'));
        let store = new FilesystemPartitionLogStore({ dataDir, logger: silent });
        try {
          await runCommands(
            {
              open: (o) => store.open(ref, o),
              reopenStore: () => (store = new FilesystemPartitionLogStore({ dataDir, logger: silent })),
              cleanup: async () => undefined,
            },
            policy,
            commands,
          );
          // Closed means closed: no handle left for the garbage collector (a replaced one would be).
          expect(openDescriptorsUnder(await realpath(dataDir))).toEqual([]);
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});
