import { DroppedMessageLog } from '../../../src/application/diagnostics/dropped-message-log';
import { NatsSeedConflictDetector, parseAnnouncedServerId } from '../../../src/adapters/outbound/nats/nats-seed-conflict-detector';
import { Subjects } from '../../../src/adapters/outbound/nats/subjects';
import { capturingLogger } from '../../support/capturing-logger';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';

const INTERVAL_MS = 100;

let natsServer: TestNatsServer;
const detectors: NatsSeedConflictDetector[] = [];
let counter = 0;

beforeAll(async () => {
  natsServer = await TestNatsServer.start();
});

afterAll(async () => {
  for (const d of detectors) d.stop();
  await natsServer?.stop();
});

const raw = () => natsServer.connect();

/** A seed `s1` in a fresh namespace, with what it logged, dropped and reported. */
async function seed() {
  const subjects = new Subjects(`seedns${++counter}`);
  const { logger, lines } = capturingLogger();
  const dropped: string[] = [];
  const changes: (string | null)[] = [];
  const drops = new DroppedMessageLog(logger, { messageDropped: (_k, reason) => dropped.push(reason) }, () => Date.now());
  const detector = new NatsSeedConflictDetector(await raw(), subjects.namespace, 's1', logger, drops, (other) => changes.push(other), INTERVAL_MS);
  detectors.push(detector);
  await detector.start();
  return { subjects, lines, dropped, changes, detector };
}

describe('NatsSeedConflictDetector', () => {
  it('accepts only a valid server id as an announcement', () => {
    expect(parseAnnouncedServerId(Buffer.from('s2'))).toBe('s2');
    for (const bad of [Buffer.alloc(0), Buffer.from('a.b'), Buffer.from('a b'), Buffer.from('*'), Buffer.from('\x1b[2J'), Buffer.from([0xff, 0xfe]), Buffer.alloc(257, 0x61)]) {
      expect(parseAnnouncedServerId(bad)).toBeNull();
    }
  });

  it('drops garbage, oversized and wrongly addressed announcements without a conflict, logging only a bounded preview', async () => {
    const { subjects, lines, dropped, changes } = await seed();
    const attacker = await raw();
    const reflected: Uint8Array[] = [];
    attacker.subscribe('victim.stream', { callback: (_e, m) => reflected.push(m.data) });
    const reply = { reply: subjects.bootstrapSeedReplies() };
    attacker.publish(subjects.bootstrapSeeds(), Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00]), reply);
    attacker.publish(subjects.bootstrapSeeds(), Buffer.alloc(500_000, 0x41), reply);
    attacker.publish(subjects.bootstrapSeedReplies(), Buffer.from('a.b'));
    // A valid id asking for the answer on another subject: dropped, not answered (no reflection), no conflict.
    attacker.publish(subjects.bootstrapSeeds(), Buffer.from('s2'), { reply: 'victim.stream' });
    await attacker.flush();
    await waitFor(() => dropped.length === 4, 5000, 'four drops');
    expect(dropped).toEqual(['invalid-server-id', 'invalid-server-id', 'invalid-server-id', 'unexpected-reply-subject']);
    expect(changes).toEqual([]);
    expect(reflected).toEqual([]);
    const logged = JSON.stringify(lines);
    expect(logged.length).toBeLessThan(2000);
    expect(logged).not.toContain('\u001b');
    expect(logged).toContain('1b5b324a00');
  });

  it('reports another seed, answers it once per interval, and clears after three silent intervals', async () => {
    const { subjects, lines, changes, detector } = await seed();
    const other = await raw();
    const answers: string[] = [];
    other.subscribe(subjects.bootstrapSeedReplies(), { callback: (_e, m) => answers.push(Buffer.from(m.data).toString()) });
    await other.flush();
    for (let i = 0; i < 20; i++) other.publish(subjects.bootstrapSeeds(), Buffer.from('s2'), { reply: subjects.bootstrapSeedReplies() });
    await waitFor(() => changes.length === 1 && answers.includes('s1'), 5000, 'the conflict and the answer');
    expect(changes).toEqual(['s2']);
    expect(detector.conflictingSeed).toBe('s2');
    expect(answers.filter((a) => a === 's1')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'Server s2 was also started with raft.bootstrap.seed')).toHaveLength(1);
    await waitFor(() => changes.length === 2, 3000, 'the conflict to clear');
    expect(changes).toEqual(['s2', null]);
    expect(detector.conflictingSeed).toBeNull();
  });
});
