import { handleUnaryCall, sendUnaryData, ServerUnaryCall, status } from '@grpc/grpc-js';
import { CursorError, CursorService } from '../../../application/cursors/cursor-service';
import { Logger } from '../../../application/ports/logger.port';
import { Result } from '../../../domain/shared/result';
import * as api from '../../../protocol/api-types';
import { thrownStatus } from './grpc-error-mapping';

interface CursorStatus {
  readonly code: status;
  readonly details: string;
}

/** Liftbridge's answers to refused cursor calls (docs/protocol.md "SetCursor and FetchCursor"). */
export function cursorErrorStatus(error: CursorError): CursorStatus {
  switch (error.kind) {
    case 'NoStreamProvided':
      return { code: status.INVALID_ARGUMENT, details: 'No stream provided' };
    case 'NoCursorIdProvided':
      return { code: status.INVALID_ARGUMENT, details: 'No cursorId provided' };
    case 'CursorsDisabled':
      return { code: status.INTERNAL, details: 'Cursors stream does not exist' };
    case 'CursorsPartitionMissing':
      return { code: status.INTERNAL, details: `Cursors partition ${error.partition} does not exist` };
    case 'NotCursorsLeader':
      return { code: status.FAILED_PRECONDITION, details: `Server not leader for cursors partition ${error.partition}` };
    case 'CursorsNotCommitted':
      return { code: status.UNAVAILABLE, details: `Cursors partition ${error.partition} has not committed its log since its leader changed` };
    case 'CursorWriteFailed':
      return { code: status.INTERNAL, details: `Failed to write cursor: ${error.reason}` };
  }
}

/** Milliseconds left before the call's deadline, or null when it has none. */
function deadlineMs(call: ServerUnaryCall<unknown, unknown>): number | null {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

function answer<Res>(work: Promise<Result<Res, CursorError>>, callback: sendUnaryData<Res>, rpc: string, logger: Logger): void {
  work.then(
    (result) => (result.ok ? callback(null, result.value) : callback(cursorErrorStatus(result.error))),
    (error: unknown) => {
      const failure = thrownStatus(error);
      logger.error({ err: error, rpc }, 'RPC failed');
      callback({ code: failure.code, details: failure.message });
    },
  );
}

/** SetCursor and FetchCursor (docs/consumers.md "Cursors"): decode, call the cursor service, encode. */
export function cursorHandlers(cursors: CursorService, logger: Logger): {
  SetCursor: handleUnaryCall<api.SetCursorRequest, api.SetCursorResponse>;
  FetchCursor: handleUnaryCall<api.FetchCursorRequest, api.FetchCursorResponse>;
} {
  return {
    SetCursor: (call, callback) => {
      const req = call.request;
      if (req.offset > BigInt(Number.MAX_SAFE_INTEGER) || req.offset < BigInt(Number.MIN_SAFE_INTEGER)) {
        callback({ code: status.INVALID_ARGUMENT, details: `Cursor offset ${req.offset} is out of range` });
        return;
      }
      const address = { cursorId: req.cursorId, stream: req.stream, partition: req.partition };
      const work = cursors.setCursor(address, Number(req.offset), deadlineMs(call)).then((r) => (r.ok ? { ok: true as const, value: {} } : r));
      answer(work, callback, 'SetCursor', logger);
    },
    FetchCursor: (call, callback) => {
      const req = call.request;
      const address = { cursorId: req.cursorId, stream: req.stream, partition: req.partition };
      const work = cursors.fetchCursor(address, deadlineMs(call)).then((r) => (r.ok ? { ok: true as const, value: { offset: BigInt(r.value) } } : r));
      answer(work, callback, 'FetchCursor', logger);
    },
  };
}
