import { Subject } from 'rxjs';
import type { AppliedEntry } from '../../../../src/application/metadata/metadata-service';
import type { Logger } from '../../../../src/application/ports/logger.port';
import { emptyMetadataState } from '../../../../src/domain/metadata/metadata-state';
import { logReplayedMetadata, raftLogger } from '../../../../src/infrastructure/logging/optional-log-lines';

function capture(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const logger: Logger = {
    debug: (_o, msg) => lines.push({ level: 'debug', msg }),
    info: (_o, msg) => lines.push({ level: 'info', msg }),
    warn: (_o, msg) => lines.push({ level: 'warn', msg }),
    error: (_o, msg) => lines.push({ level: 'error', msg }),
    child: () => logger,
  };
  return { logger, lines };
}

describe('logging.raft', () => {
  it('on: the Raft log\'s debug lines are logged at info; off: they stay debug', () => {
    const on = capture();
    raftLogger(on.logger, true).child({ x: 1 }).debug({}, 'compacted');
    expect(on.lines).toEqual([{ level: 'info', msg: 'compacted' }]);
    const off = capture();
    raftLogger(off.logger, false).debug({}, 'compacted');
    expect(off.lines).toEqual([{ level: 'debug', msg: 'compacted' }]);
  });
});

describe('logging.recovery', () => {
  it('logs each replayed entry, and nothing once replay is over', () => {
    const { logger, lines } = capture();
    const applied = new Subject<AppliedEntry>();
    logReplayedMetadata(applied, logger);
    const state = emptyMetadataState();
    const entry = (index: number, recovered: boolean): AppliedEntry => ({
      kind: 'proposal',
      index,
      recovered,
      state,
      proposal: { events: [], expectations: [] } as unknown as Extract<AppliedEntry, { kind: 'proposal' }>['proposal'],
      outcome: { kind: 'applied', events: [] },
    });
    applied.next({ kind: 'snapshot', index: 1, recovered: true, previous: state, state });
    applied.next(entry(2, true));
    applied.next(entry(3, false));
    applied.next(entry(4, true));
    expect(lines.map((l) => l.msg)).toEqual(['--> replayed metadata snapshot', '--> replayed metadata entry']);
  });
});
