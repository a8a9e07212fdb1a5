/**
 * The admin side of the `liftbridge` executable: recognising an admin invocation, parsing it into
 * a command (commander never exits the process: help and usage errors come back as `exit`), and
 * running it with a client, mapping failures to exit codes (0 ok, 1 server/RPC error, 2 usage).
 */
import { Command, CommanderError } from 'commander';
import type { LiftbridgeClient } from '../../../client';
import { serverFlagTakesValue } from '../server-options';
import { registerActivityCommand, runActivityCommand, type ActivityCommand } from './activity-command';
import { connectClient, describeFailure, EXIT_USAGE_ERROR, readTlsFiles, type AdminIo, type Connect } from './admin-common';
import { ADMIN_COMMAND_NAMES } from './admin-summary';
import { registerBenchCommand, runBenchCommand, type BenchCommand } from './bench-command';
import { registerCursorCommands, runCursorCommand, type CursorCommand } from './cursor-commands';
import { connectGroupAdmin, isGroupCommand, registerGroupCommands, runGroupCommand, type ConnectGroupAdmin, type GroupCommand } from './group-commands';
import { registerPublishCommand, runPublishCommand, type PublishCommand } from './publish-command';
import { registerStreamCommands, runStreamCommand, type StreamCommand } from './stream-commands';
import { registerSubscribeCommand, runSubscribeCommand, type SubscribeCommand } from './subscribe-command';

export type AdminCommand = StreamCommand | PublishCommand | SubscribeCommand | BenchCommand | CursorCommand | ActivityCommand | GroupCommand;

export type AdminInvocation =
  | { readonly kind: 'run'; readonly command: AdminCommand }
  /** `output` goes to stdout when `code` is 0 (help, version), else to stderr. */
  | { readonly kind: 'exit'; readonly code: number; readonly output: string };

/**
 * True when the first non-option argument after the script (`argv[2]` on) names an admin
 * command; values of server flags (`--port 9292`) are skipped, `--` ends the options.
 */
export function isAdminInvocation(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return false;
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.includes('=') && serverFlagTakesValue(arg)) i++;
      continue;
    }
    return ADMIN_COMMAND_NAMES.includes(arg);
  }
  return false;
}

/** The admin program; `accept` receives the parsed command. */
export function createAdminProgram(
  version: string,
  output: { out: (text: string) => void; err: (text: string) => void },
  accept: (command: AdminCommand) => void,
): Command {
  const program = new Command('liftbridge')
    .description('Liftbridge admin commands (run liftbridge --help for the server options)')
    .usage('<command> [options]')
    .version(version, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: output.out, writeErr: output.err });
  registerStreamCommands(program, accept);
  registerPublishCommand(program, accept);
  registerSubscribeCommand(program, accept);
  registerBenchCommand(program, accept);
  registerCursorCommands(program, accept);
  registerActivityCommand(program, accept);
  registerGroupCommands(program, accept);
  return program;
}

/** Parses `process.argv`-style arguments into a command to run, or an exit (help, usage error). */
export async function parseAdminInvocation(argv: readonly string[], version: string): Promise<AdminInvocation> {
  let out = '';
  let errOut = '';
  let parsed: AdminCommand | null = null;
  const program = createAdminProgram(version, { out: (t) => (out += t), err: (t) => (errOut += t) }, (command) => {
    parsed = command;
  });
  try {
    await program.parseAsync([...argv], { from: 'node' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    // Help asked for (exit 0), or a command group without its subcommand (help on stderr): usage.
    if (e.exitCode === 0) return { kind: 'exit', code: 0, output: out };
    return { kind: 'exit', code: EXIT_USAGE_ERROR, output: errOut || out || `${e.message}\n` };
  }
  if (parsed === null) return { kind: 'exit', code: EXIT_USAGE_ERROR, output: program.helpInformation() };
  return { kind: 'run', command: parsed };
}

function run(command: Exclude<AdminCommand, GroupCommand>, client: LiftbridgeClient, io: AdminIo): Promise<number> {
  switch (command.kind) {
    case 'publish':
      return runPublishCommand(command, client, io);
    case 'subscribe':
      return runSubscribeCommand(command, client, io);
    case 'bench':
      return runBenchCommand(command, client, io);
    case 'cursor-get':
    case 'cursor-set':
      return runCursorCommand(command, client, io);
    case 'activity':
      return runActivityCommand(command, client, io);
    default:
      return runStreamCommand(command, client, io);
  }
}

const commandName = (command: AdminCommand): string => command.kind.replace('-', ' ');

/** Runs a parsed command; returns the exit code and reports failures on stderr. */
export async function runAdminCommand(
  command: AdminCommand,
  io: AdminIo,
  connect: Connect = connectClient,
  connectGroups: ConnectGroupAdmin = connectGroupAdmin,
): Promise<number> {
  // The group commands speak only the GroupAdmin extension: they need no Liftbridge client (nor its FetchMetadata permission).
  let client: { close(): void } | null = null;
  try {
    const tls = await readTlsFiles(command.tls);
    if (isGroupCommand(command)) {
      const admin = connectGroups(command.servers, tls);
      client = admin;
      return await runGroupCommand(command, admin, io);
    }
    const liftbridge = await connect(command.servers, tls);
    client = liftbridge;
    return await run(command, liftbridge, io);
  } catch (error) {
    const failure = describeFailure(error);
    io.err(`liftbridge ${commandName(command)}: ${failure.message}\n`);
    return failure.code;
  } finally {
    client?.close();
  }
}

/** The whole admin path: parse, run, and return the exit code. */
export async function runAdmin(
  argv: readonly string[],
  io: AdminIo,
  version: string,
  connect: Connect = connectClient,
  connectGroups: ConnectGroupAdmin = connectGroupAdmin,
): Promise<number> {
  const invocation = await parseAdminInvocation(argv, version);
  if (invocation.kind === 'exit') {
    (invocation.code === 0 ? io.out : io.err)(invocation.output);
    return invocation.code;
  }
  return runAdminCommand(invocation.command, io, connect, connectGroups);
}
