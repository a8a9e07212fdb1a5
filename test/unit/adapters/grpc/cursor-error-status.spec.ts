import { status } from '@grpc/grpc-js';
import { cursorErrorStatus } from '../../../../src/adapters/inbound/grpc/cursor-handlers';
import { CursorError } from '../../../../src/application/cursors/cursor-service';

describe('cursor refusals as Liftbridge answers them (docs/protocol.md "SetCursor and FetchCursor")', () => {
  it.each<[CursorError, status, string]>([
    [{ kind: 'NoStreamProvided' }, status.INVALID_ARGUMENT, 'No stream provided'],
    [{ kind: 'NoCursorIdProvided' }, status.INVALID_ARGUMENT, 'No cursorId provided'],
    [{ kind: 'CursorsDisabled' }, status.INTERNAL, 'Cursors stream does not exist'],
    [{ kind: 'CursorsPartitionMissing', partition: 3 }, status.INTERNAL, 'Cursors partition 3 does not exist'],
    [{ kind: 'NotCursorsLeader', partition: 1 }, status.FAILED_PRECONDITION, 'Server not leader for cursors partition 1'],
    [{ kind: 'CursorsNotCommitted', partition: 1 }, status.UNAVAILABLE, 'Cursors partition 1 has not committed its log since its leader changed'],
    [{ kind: 'CursorWriteFailed', reason: 'AckTimeout' }, status.INTERNAL, 'Failed to write cursor: AckTimeout'],
  ])('%j -> %s %s', (error, code, details) => {
    expect(cursorErrorStatus(error)).toEqual({ code, details });
  });
});
