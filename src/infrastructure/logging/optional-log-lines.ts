import { Observable, takeWhile } from 'rxjs';
import type { AppliedEntry } from '../../application/metadata/metadata-service';
import type { Logger } from '../../application/ports/logger.port';

/**
 * `logging.raft`: the metadata Raft log's own detail lines (its debug lines: compactions and the
 * like) are logged at info, so they show at the usual `logging.level`. Off, they follow the level.
 */
export function raftLogger(logger: Logger, raftLinesOn: boolean): Logger {
  if (!raftLinesOn) return logger;
  return {
    debug: (obj, msg) => logger.info(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    child: (bindings) => raftLogger(logger.child(bindings), true),
  };
}

/**
 * `logging.recovery`: one line per metadata entry replayed at start-up (Liftbridge prefixes its
 * replayed lines with `--> `); off, start-up logs only the summary line. Subscribe before replay.
 */
export function logReplayedMetadata(applied$: Observable<AppliedEntry>, logger: Logger): void {
  applied$.pipe(takeWhile((entry) => entry.recovered)).subscribe((entry) => {
    if (entry.kind === 'snapshot') {
      logger.info({ index: entry.index, streams: entry.state.streams.size }, '--> replayed metadata snapshot');
    } else {
      logger.info({ index: entry.index, events: entry.proposal.events.map((e) => e.type), outcome: entry.outcome.kind }, '--> replayed metadata entry');
    }
  });
}
