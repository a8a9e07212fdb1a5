/**
 * `liftbridge cursor get|set`: read or store a consumer's cursor (docs/consumers.md "Cursors")
 * through the client library, which routes to the leader of the owning `__cursors` partition.
 */
import { Command, InvalidArgumentError as CommanderArgumentError } from 'commander';
import type { LiftbridgeClient } from '../../../client';
import { addCommonOptions, commonOptions, parseCount, toJson, type AdminIo, type CommonOptions } from './admin-common';

export type CursorCommand = CommonOptions &
  (
    | { readonly kind: 'cursor-get'; readonly id: string; readonly stream: string; readonly partition: number }
    | { readonly kind: 'cursor-set'; readonly id: string; readonly stream: string; readonly partition: number; readonly offset: bigint }
  );

/** An offset: a non-negative integer, or -1 (no position). */
function parseOffset(text: string): bigint {
  if (!/^(-1|\d+)$/.test(text.trim())) throw new CommanderArgumentError('must be an offset (a non-negative integer, or -1)');
  const offset = BigInt(text.trim());
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new CommanderArgumentError('is too large');
  return offset;
}

/** Adds the `cursor` command group to `program`; `accept` receives the parsed command. */
export function registerCursorCommands(program: Command, accept: (command: CursorCommand) => void): void {
  const cursor = program.command('cursor').description('read or store a consumer cursor (needs cursors enabled on the servers)').usage('<command> [options]');

  addCommonOptions(
    cursor
      .command('get')
      .description('print the offset stored as a cursor (-1 when never set)')
      .argument('<id>', 'cursor id')
      .argument('<stream>', 'stream the cursor is a position in')
      .option('-p, --partition <n>', 'partition of the stream', parseCount, 0),
  ).action((id: string, stream: string, flags: CommonOptions & { partition: number }) =>
    accept({ kind: 'cursor-get', ...commonOptions(flags), id, stream, partition: flags.partition }),
  );

  addCommonOptions(
    cursor
      .command('set')
      .description('store an offset as a cursor')
      .argument('<id>', 'cursor id')
      .argument('<stream>', 'stream the cursor is a position in')
      .argument('<offset>', 'offset to store', parseOffset)
      .option('-p, --partition <n>', 'partition of the stream', parseCount, 0),
  ).action((id: string, stream: string, offset: bigint, flags: CommonOptions & { partition: number }) =>
    accept({ kind: 'cursor-set', ...commonOptions(flags), id, stream, partition: flags.partition, offset }),
  );
}

export async function runCursorCommand(command: CursorCommand, client: LiftbridgeClient, io: AdminIo): Promise<number> {
  const where = { id: command.id, stream: command.stream, partition: command.partition };
  if (command.kind === 'cursor-get') {
    const offset = await client.fetchCursor(where);
    io.out(command.json ? `${toJson({ ...where, offset })}\n` : `${offset}\n`);
    return 0;
  }
  await client.setCursor({ ...where, offset: command.offset });
  const text = `cursor ${command.id} of ${command.stream}/${command.partition} set to ${command.offset}`;
  io.out(command.json ? `${toJson({ ok: true, ...where, offset: command.offset })}\n` : `${text}\n`);
  return 0;
}
