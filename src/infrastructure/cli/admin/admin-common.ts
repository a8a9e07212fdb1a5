/**
 * What every admin command shares: the `--servers` and `--json` options, value parsers that turn
 * bad input into usage errors (exit 2), the I/O the commands write to, the mapping of failures to
 * exit codes and messages, and a plain-text table formatter.
 */
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BrokerUnavailableError, ClientTlsOptions, LiftbridgeClient, LiftbridgeError, TlsHandshakeError } from '../../../client';
import { parseGoDurationMs } from '../../config/go-duration';

/** Exit codes of the admin commands. */
export const EXIT_OK = 0;
/** The server refused the request, or could not be reached. */
export const EXIT_SERVER_ERROR = 1;
/** Bad flags or arguments. */
export const EXIT_USAGE_ERROR = 2;

export const DEFAULT_SERVERS: readonly string[] = ['localhost:9292'];

/** TLS to the servers, from `--tls`, `--tls-ca`, `--tls-cert` and `--tls-key` (PEM file names). */
export interface AdminTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Options present on every admin command. */
export interface CommonOptions {
  readonly servers: readonly string[];
  readonly json: boolean;
  /** Absent: plaintext. */
  readonly tls?: AdminTls;
}

/** Where a command reads and writes; process streams in the executable, buffers in tests. */
export interface AdminIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly stdin: Readable;
  /** True when stderr is a terminal (progress redraws in place). */
  readonly stderrIsTty: boolean;
  /** Registers a Ctrl-C handler; returns a function that removes it. */
  readonly onInterrupt: (handler: () => void) => () => void;
}

/** Opens a client; replaced in tests. */
export type Connect = (servers: readonly string[], tls?: ClientTlsOptions) => Promise<LiftbridgeClient>;

export const connectClient: Connect = (servers, tls) =>
  // Few retries: an admin command should fail fast with a clear message when nothing listens.
  LiftbridgeClient.connect({ servers, retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 500 }, ...(tls === undefined ? {} : { tls }) });

/** Reads the PEM files of the TLS options; a file that cannot be read is a usage error naming the option. */
export async function readTlsFiles(tls: AdminTls | undefined): Promise<ClientTlsOptions | undefined> {
  if (tls === undefined) return undefined;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new UsageError(tls.certFile === undefined ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key');
  }
  const read = async (option: string, file: string | undefined): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      throw new UsageError(`cannot read the file of ${option}: ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('--tls-ca', tls.caFile), read('--tls-cert', tls.certFile), read('--tls-key', tls.keyFile)]);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** A usage problem found after commander's own parsing (e.g. conflicting options). */
export class UsageError extends Error {}

const invalid = (message: string): never => {
  throw new CommanderArgumentError(message);
};

/** A non-negative safe integer. */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) invalid('must be a non-negative integer');
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n)) invalid('is too large');
  return n;
}

/** A positive safe integer. */
export function parsePositive(text: string): number {
  if (!/^\d+$/.test(text.trim())) invalid('must be a positive integer');
  const n = parseCount(text);
  if (n === 0) invalid('must be greater than 0');
  return n;
}

/** An integer that may be -1 (replication factor: -1 = every broker). */
export function parseReplicationFactor(text: string): number {
  if (text.trim() === '-1') return -1;
  return parsePositive(text);
}

const SIZE_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  b: 1n,
  kb: 1000n,
  mb: 1000n ** 2n,
  gb: 1000n ** 3n,
  tb: 1000n ** 4n,
  k: 1024n,
  m: 1024n ** 2n,
  g: 1024n ** 3n,
  kib: 1024n,
  mib: 1024n ** 2n,
  gib: 1024n ** 3n,
  tib: 1024n ** 4n,
};

/** A byte count: `1048576`, `64MiB`, `1GB` (KB/MB/GB powers of 1000, K/KiB/MiB/GiB powers of 1024). */
export function parseBytes(text: string): bigint {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return invalid('must be a byte count such as 1048576, 64MiB or 1GB');
  const bytes = BigInt(match[1]!) * unit;
  if (bytes > 2n ** 63n - 1n) invalid('is too large');
  return bytes;
}

/** A Go-style duration with a unit (`90s`, `1h`, `1h30m`), or `0`; whole milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s) && s !== '0') invalid('needs a unit, e.g. 30s, 15m or 24h');
  const ms = parseGoDurationMs(s);
  if (ms === null || ms < 0) invalid('must be a duration such as 30s, 15m or 24h');
  return ms!;
}

/** A comma-separated list of partition numbers; repeatable. */
export function parsePartitionList(text: string, previous: readonly number[] | undefined): readonly number[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) invalid('must list partition numbers, e.g. 0,1');
  return [...(previous ?? []), ...parts.map(parseCount)];
}

/** A comma-separated list of `host:port` addresses; repeatable. */
export function parseServerList(text: string, previous: readonly string[] | undefined): readonly string[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) invalid('must list addresses host:port');
  for (const part of parts) if (!/^[^\s:]+:\d{1,5}$/.test(part) && !/^\[[^\]]+\]:\d{1,5}$/.test(part)) invalid(`"${part}" is not host:port`);
  // The default is replaced, not extended, by the first --servers.
  return previous === DEFAULT_SERVERS ? parts : [...(previous ?? []), ...parts];
}

/** Adds `--servers`, `--json` and the TLS options to a command. */
export function addCommonOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-s, --servers <addresses>', 'server addresses host:port, comma separated')
        .argParser(parseServerList)
        .default(DEFAULT_SERVERS, DEFAULT_SERVERS.join(',')),
    )
    .option('--json', 'machine-readable JSON output', false)
    .option('--tls', 'connect with TLS, verifying the servers (with Node\'s root CAs unless --tls-ca)')
    .option('--tls-ca <file>', 'CA certificates (PEM) that verify the servers; implies --tls')
    .option('--tls-cert <file>', 'client certificate (PEM) for servers that require one; implies --tls')
    .option('--tls-key <file>', 'key (PEM) of --tls-cert');
}

/** The common options as commander parses them (`addCommonOptions`). */
interface CommonFlags {
  readonly servers?: readonly string[];
  readonly json?: boolean;
  readonly tls?: boolean;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

/** The common options of a command from the flags commander parsed (`flags` of its action). */
export function commonOptions(flags: object): CommonOptions {
  const opts = flags as CommonFlags;
  const common = { servers: opts.servers ?? DEFAULT_SERVERS, json: opts.json ?? false };
  if (opts.tls !== true && opts.tlsCa === undefined && opts.tlsCert === undefined && opts.tlsKey === undefined) return common;
  const tls: AdminTls = {
    ...(opts.tlsCa === undefined ? {} : { caFile: opts.tlsCa }),
    ...(opts.tlsCert === undefined ? {} : { certFile: opts.tlsCert }),
    ...(opts.tlsKey === undefined ? {} : { keyFile: opts.tlsKey }),
  };
  return { ...common, tls };
}

/** The message and exit code for a failure while running a command. */
export function describeFailure(error: unknown): { code: number; message: string } {
  if (error instanceof UsageError) return { code: EXIT_USAGE_ERROR, message: error.message };
  if (error instanceof TlsHandshakeError) return { code: EXIT_SERVER_ERROR, message: `${error.message}; see --tls-ca, --tls-cert and --tls-key` };
  if (error instanceof BrokerUnavailableError) {
    // grpc-js says "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:9292. Resolution note: ".
    const reason = /connect (E[A-Z]+ \S+?)\.?(?:\s|$)/.exec(error.message)?.[1] ?? error.message.trim();
    return { code: EXIT_SERVER_ERROR, message: `cannot reach a server (${reason}); is one running there? (see --servers)` };
  }
  // The server's messages name the problem ("no such stream: orders", "readonly partition: 0").
  if (error instanceof LiftbridgeError) return { code: EXIT_SERVER_ERROR, message: error.message };
  return { code: EXIT_SERVER_ERROR, message: error instanceof Error ? error.message : String(error) };
}

/** JSON with bigints as decimal strings (offsets and nanosecond timestamps exceed 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** A plain-text table: a header row then one row per entry, columns padded to the widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Unix nanoseconds as an ISO-8601 time (millisecond precision); empty for 0. */
export function formatNs(ns: bigint): string {
  if (ns === 0n) return '';
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
