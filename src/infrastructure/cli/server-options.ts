/**
 * The server's command line (docs/configuration.md "Command line") and how it becomes a BrokerConfig.
 *
 * Built so that one executable can later carry an admin CLI too: `registerServerOptions` adds
 * the server options to any commander Command (the root program today, or a `serve` subcommand
 * or the root's default action later), `readServerFlags` reads them back, and
 * `resolveServerInvocation` turns them into a configuration. `parseServerInvocation` is the
 * whole path for today's single-purpose executable. Commander never exits the process here:
 * help, version and usage errors come back as `{ kind: 'exit' }`.
 */
import { Command, CommanderError, Option } from 'commander';
import type { BrokerConfig } from '../config/broker-config';
import { checkConfiguredFiles } from '../config/config-file-checks';
import { formatIssues, type ConfigIssue, type RawSetting, type RawValue, type SettingLayer } from '../config/config-settings';
import { splitList } from '../config/config-values';
import { loadBrokerConfig, type Environment } from '../config/load-config';
import { unimplementedSettingIssues } from '../config/setting-support';
import { ADMIN_HELP_SUMMARY } from './admin/admin-summary';

export type ServerInvocation =
  | { kind: 'run'; config: BrokerConfig }
  /** `output` goes to stdout when `code` is 0 (help, version), else to stderr. */
  | { kind: 'exit'; code: number; output: string };

/** Exit code for usage and configuration errors. */
export const USAGE_ERROR_EXIT_CODE = 2;

/** Parsed server flags; each is undefined unless given on the command line. */
export interface ServerFlags {
  readonly config?: string;
  readonly serverId?: string;
  readonly namespace?: string;
  readonly host?: string;
  readonly port?: string;
  readonly dataDir?: string;
  readonly natsServers?: readonly string[];
  readonly embeddedNats?: boolean;
  readonly embeddedNatsConfig?: string;
  readonly raftBootstrapSeed?: boolean;
  readonly raftBootstrapPeers?: readonly string[];
  readonly level?: string;
  readonly tlsKey?: string;
  readonly tlsCert?: string;
}

interface ServerFlagSpec {
  readonly flags: string;
  readonly attribute: keyof ServerFlags;
  /** The configuration key the flag sets; none for --config. */
  readonly key?: string;
  readonly list?: boolean;
  readonly description: string;
}

// Descriptions stay within one 80-column help line.
const SERVER_FLAGS: readonly ServerFlagSpec[] = [
  { flags: '-c, --config <file>', attribute: 'config', description: 'configuration file (YAML or brace format)' },
  { flags: '--id, --server-id <id>', attribute: 'serverId', key: 'clustering.server.id', description: 'server id (default: stored or generated)' },
  { flags: '--ns, --namespace <ns>', attribute: 'namespace', key: 'clustering.namespace', description: 'cluster namespace (liftbridge-default)' },
  { flags: '--host <host>', attribute: 'host', key: 'host', description: 'advertised host (default localhost)' },
  { flags: '-p, --port <port>', attribute: 'port', key: 'port', description: 'client API port (default 9292)' },
  { flags: '-d, --data-dir <dir>', attribute: 'dataDir', key: 'data.dir', description: 'data dir (default /tmp/liftbridge/<ns>)' },
  {
    flags: '-n, --nats-servers <urls>',
    attribute: 'natsServers',
    key: 'nats.servers',
    list: true,
    description: 'NATS URLs, comma separated, repeatable',
  },
  { flags: '-e, --embedded-nats', attribute: 'embeddedNats', key: 'nats.embedded', description: 'run an embedded nats-server' },
  {
    flags: '--nc, --embedded-nats-config <file>',
    attribute: 'embeddedNatsConfig',
    key: 'nats.embedded.config',
    description: 'embedded nats-server config (implies -e)',
  },
  {
    flags: '--raft-bootstrap-seed',
    attribute: 'raftBootstrapSeed',
    key: 'clustering.raft.bootstrap.seed',
    description: 'bootstrap as a single-server cluster',
  },
  {
    flags: '--raft-bootstrap-peers <ids>',
    attribute: 'raftBootstrapPeers',
    key: 'clustering.raft.bootstrap.peers',
    list: true,
    description: 'bootstrap a cluster of these server ids',
  },
  { flags: '-l, --level <level>', attribute: 'level', key: 'logging.level', description: 'log level: debug|info|warn|error' },
  { flags: '--tls-key <file>', attribute: 'tlsKey', key: 'tls.key', description: 'TLS key for the client API (PEM)' },
  { flags: '--tls-cert <file>', attribute: 'tlsCert', key: 'tls.cert', description: 'TLS certificate for the client API (PEM)' },
];

const HELP_FOOTER = `
Without --nats-servers (or nats.servers) the broker runs its own nats-server.
Every configuration key can also be set in the --config file or in the environment
as LIFTBRIDGE_<KEY>, dots as underscores (e.g. LIFTBRIDGE_LOGGING_LEVEL=debug).
Precedence: flags > environment > config file > defaults. See docs/configuration.md.`;

const accumulateList = (value: string, previous: readonly string[] | undefined): readonly string[] => [
  ...(previous ?? []),
  ...splitList(value),
];

/**
 * Whether a server flag (`--port`, `-p`, ...) takes a value, so that the argument after it is not
 * mistaken for a command name. Unknown flags: false.
 */
export function serverFlagTakesValue(flag: string): boolean {
  return SERVER_FLAGS.some((spec) => spec.flags.includes('<') && spec.flags.split(/[ ,]+/).includes(flag));
}

/** Adds the server options (and their help text) to `command`. */
export function registerServerOptions(command: Command): Command {
  for (const spec of SERVER_FLAGS) {
    const option = new Option(spec.flags, spec.description);
    if (spec.list) option.argParser(accumulateList);
    command.addOption(option);
  }
  return command.addHelpText('after', HELP_FOOTER);
}

/** The server flags that `command` parsed (after registerServerOptions). */
export function readServerFlags(command: Command): ServerFlags {
  return command.opts<ServerFlags>();
}

/** The explicitly given flags as a settings layer, the highest-precedence source (docs/configuration.md "Sources and precedence"). */
export function serverFlagLayer(flags: ServerFlags): SettingLayer {
  const layer = new Map<string, RawSetting>();
  for (const spec of SERVER_FLAGS) {
    const value = flags[spec.attribute] as RawValue | undefined;
    if (spec.key === undefined || value === undefined) continue;
    const longFlag = spec.flags.split(/[ ,]+/).filter((f) => f.startsWith('--')).pop() ?? spec.flags;
    layer.set(spec.key, { key: spec.key, value, source: { kind: 'flag', description: `flag ${longFlag}` } });
  }
  return layer;
}

/** Loads and checks the configuration for parsed server flags. */
export async function resolveServerInvocation(flags: ServerFlags, env: Environment): Promise<ServerInvocation> {
  const loaded = await loadBrokerConfig({
    env,
    flags: serverFlagLayer(flags),
    ...(flags.config === undefined ? {} : { configFile: flags.config }),
  });
  if (!loaded.ok) return configError(loaded.error);
  // Everything at once: what this server does not implement, and files that cannot be used.
  const issues = [...unimplementedSettingIssues(loaded.value), ...(await checkConfiguredFiles(loaded.value))];
  if (issues.length > 0) return configError(issues);
  return { kind: 'run', config: loaded.value };
}

const configError = (issues: readonly ConfigIssue[]): ServerInvocation => ({
  kind: 'exit',
  code: USAGE_ERROR_EXIT_CODE,
  output: formatIssues(issues),
});

export interface ProgramOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The `liftbridge` program with the server options, --version and --help; it never exits the process. */
export function createServerProgram(version: string, output: ProgramOutput): Command {
  const program = new Command('liftbridge')
    .description('Liftbridge message-stream server: durable, replicated streams on NATS')
    .version(version, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false)
    .showHelpAfterError('(run liftbridge --help for the options)')
    .exitOverride()
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .addHelpText('after', ADMIN_HELP_SUMMARY);
  return registerServerOptions(program);
}

/** Parses `process.argv`-style arguments and the environment into "run with this config" or "exit". */
export async function parseServerInvocation(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
): Promise<ServerInvocation> {
  let out = '';
  let errOut = '';
  const program = createServerProgram(version, { out: (t) => (out += t), err: (t) => (errOut += t) });
  try {
    await program.parseAsync([...argv], { from: 'node' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return e.exitCode === 0
      ? { kind: 'exit', code: 0, output: out }
      : { kind: 'exit', code: USAGE_ERROR_EXIT_CODE, output: errOut || `${e.message}\n` };
  }
  return resolveServerInvocation(readServerFlags(program), env);
}
