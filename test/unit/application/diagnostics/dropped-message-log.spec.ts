import { bytesPreview, DroppedMessageLog, errorDetail } from '../../../../src/application/diagnostics/dropped-message-log';
import { capturingLogger } from '../../../support/capturing-logger';

function setup(intervalMs = 1000) {
  const { logger, lines } = capturingLogger();
  const counted: string[] = [];
  let now = 0;
  const log = new DroppedMessageLog(logger, { messageDropped: (kind, reason) => counted.push(`${kind}/${reason}`) }, () => now, intervalMs);
  return { log, lines, counted, advance: (ms: number) => (now += ms) };
}

describe('DroppedMessageLog', () => {
  it('counts every drop but logs the first, then at most one line per interval with the drops since the last line', () => {
    const { log, lines, counted, advance } = setup(1000);
    for (let i = 0; i < 100_000; i++) log.drop('heartbeat', 'malformed', 'dropping malformed heartbeat', { bytes: 1 });
    expect(counted).toHaveLength(100_000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({ level: 'warn', msg: 'dropping malformed heartbeat', obj: { bytes: 1, kind: 'heartbeat', reason: 'malformed', droppedSinceLastLine: 1, droppedTotal: 1 } });
    advance(999);
    log.drop('heartbeat', 'malformed', 'dropping malformed heartbeat');
    expect(lines).toHaveLength(1);
    advance(1);
    log.drop('heartbeat', 'malformed', 'dropping malformed heartbeat');
    expect(lines).toHaveLength(2);
    expect(lines[1]!.obj).toMatchObject({ droppedSinceLastLine: 100_001, droppedTotal: 100_002 });
    expect(log.total('heartbeat', 'malformed')).toBe(100_002);
  });

  it('keeps each kind and reason apart, and logs at the level asked', () => {
    const { log, lines } = setup();
    log.drop('raft', 'unsigned', 'm');
    log.drop('raft', 'bad-signature', 'm');
    log.drop('join', 'unsigned', 'm', {}, 'error');
    log.drop('raft', 'unsigned', 'm');
    expect(lines.map((l) => `${l.level} ${String(l.obj['kind'])}/${String(l.obj['reason'])}`)).toEqual(['warn raft/unsigned', 'warn raft/bad-signature', 'error join/unsigned']);
    expect(log.total('raft')).toBe(3);
    expect(log.total('nothing')).toBe(0);
  });

  it('previews peer bytes as bounded hex and cuts long error messages', () => {
    expect(bytesPreview(Buffer.from([0x1b, 0x5b, 0x33]))).toEqual({ bytes: 3, hex: '1b5b33' });
    const long = bytesPreview(Buffer.alloc(1_000_000, 0x41));
    expect(long.bytes).toBe(1_000_000);
    expect(long.hex).toBe(`${'41'.repeat(32)}…`);
    expect(errorDetail(new Error('x'.repeat(10_000))).length).toBeLessThanOrEqual(201);
    expect(errorDetail('plain')).toBe('plain');
  });
});
