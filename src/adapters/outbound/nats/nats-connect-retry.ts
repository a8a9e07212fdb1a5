import { connect, ConnectionOptions, NatsConnection } from 'nats';
import { NatsUnavailableError } from '../../../application/errors/broker-errors';
import { Logger } from '../../../application/ports/logger.port';
import { NatsRefusedError, probeClientCertificateRefusal, refusalOf, TlsFiles } from './nats-connect-refusal';

/** How start-up waits for NATS (docs/operability.md, "Starting while NATS is down"). */
export interface NatsConnectRetry {
  /** Give up after this long; 0 = keep trying until NATS is reached or `signal` aborts. */
  readonly timeoutMs: number;
  /** Aborted when the broker is stopped while it waits. */
  readonly signal: AbortSignal;
  /** Told why the last attempt failed (readiness reports it); `null` once connected. */
  readonly onUnreachable: (reason: string | null) => void;
  /**
   * With TLS, ask the NATS servers before the first attempt whether they refuse the client
   * certificate (nats-connect-refusal.ts; about one handshake and 50 ms): once per start is enough.
   */
  readonly checkClientCertificate?: boolean;
}

/** Back-off between attempts: doubles from Liftbridge's 250 ms reconnect wait up to 2 s, ±20 % jitter. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2000;
const RETRY_JITTER = 0.2;
/** While NATS stays unreachable, at most one log line per this period (the first failure is always logged). */
const RETRY_LOG_INTERVAL_MS = 5000;
/**
 * nats.js's own per-attempt handshake timeout (connect, INFO, CONNECT/PONG; TLS included),
 * shortened when the overall deadline is nearer. nats.js keeps it for every reconnect too: a
 * reconnect opened while the network still drops packets must give up and start over soon after
 * the heal, not wait out nats.js's default 20 s (measured: a broker rejoined 20 s after a healed
 * one-way cut; docs/reliability.md).
 */
const ATTEMPT_TIMEOUT_MS = 5_000;

/** Failures that waiting can cure: nothing listens yet, the name does not resolve yet, the network is down. */
const RETRIABLE_CODES = new Set([
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  'TIMEOUT',
  'DISCONNECT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** How a server refusing our client certificate after a TLS 1.3 handshake looks to nats.js (nats-connect-refusal.ts). */
const MAYBE_CERTIFICATE_REFUSAL = new Set(['TIMEOUT', 'ECONNRESET', 'DISCONNECT']);

const codeOf = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? '');

/** `CONNECTION_REFUSED (connect ECONNREFUSED 127.0.0.1:4222)`: nats.js's code with the socket error it wraps. */
const describe = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error);
  const code = codeOf(error);
  const head = code !== '' && !message.includes(code) ? `${code}: ${message}` : message;
  const chained = (error as { chainedError?: unknown } | null)?.chainedError;
  return chained instanceof Error ? `${head} (${chained.message})` : head;
};

/** Whole milliseconds on the monotonic clock: waits and the durations shown in messages. */
const monotonicMs = (): number => Math.round(performance.now());

/**
 * Connects, retrying with back-off while NATS cannot be reached (a server started before NATS
 * stays up, not ready, and finishes starting once NATS answers). Failures that retrying cannot
 * cure (bad credentials, TLS mismatch) fail at once with a `NatsRefusedError`, as does the end of
 * `retry.timeoutMs`.
 */
export async function connectWithRetry(options: ConnectionOptions, name: string, logger: Logger, retry: NatsConnectRetry): Promise<NatsConnection> {
  const servers = options.servers;
  const where = `cannot connect to NATS ${JSON.stringify(servers)} (${name})`;
  const startedAtMs = monotonicMs();
  let waitMs = RETRY_FIRST_MS;
  let loggedAtMs = -Infinity;
  let failedSinceLog = 0;
  for (let attempt = 1; ; attempt++) {
    if (retry.signal.aborted) throw new NatsUnavailableError(`stopped while connecting to NATS (${name})`);
    const attemptLeftMs = retry.timeoutMs > 0 ? startedAtMs + retry.timeoutMs - monotonicMs() : Infinity;
    try {
      // A refused client certificate would only show as a TIMEOUT: ask before the first attempt.
      if (attempt === 1 && options.tls && retry.checkClientCertificate) await throwIfCertificateRefused(options, where);
      const nc = await connect({ ...options, timeout: Math.max(1000, Math.min(ATTEMPT_TIMEOUT_MS, attemptLeftMs)) });
      if (attempt > 1) logger.info({ connection: name, attempts: attempt, waitedMs: monotonicMs() - startedAtMs }, 'NATS reached');
      retry.onUnreachable(null);
      return nc;
    } catch (error) {
      if (error instanceof NatsRefusedError) throw error;
      const refusal = refusalOf(error);
      if (refusal !== null) throw new NatsRefusedError(`${where}: ${describe(error)}`, refusal, error);
      if (MAYBE_CERTIFICATE_REFUSAL.has(codeOf(error))) await throwIfCertificateRefused(options, where);
      if (!RETRIABLE_CODES.has(codeOf(error))) throw new NatsUnavailableError(`${where}: ${describe(error)}`, { cause: error });
      const reason = `NATS unreachable (${describe(error)}), attempt ${attempt}`;
      retry.onUnreachable(reason);
      const nowMs = monotonicMs();
      if (retry.timeoutMs > 0 && nowMs - startedAtMs >= retry.timeoutMs) {
        throw new NatsUnavailableError(
          `NATS ${JSON.stringify(servers)} unreachable for ${nowMs - startedAtMs} ms, longer than "nats.connect.timeout": ${describe(error)}`,
          { cause: error, retriable: true },
        );
      }
      failedSinceLog++;
      const leftMs = retry.timeoutMs > 0 ? startedAtMs + retry.timeoutMs - nowMs : Infinity;
      const sleepMs = Math.min(jittered(waitMs), leftMs);
      if (nowMs - loggedAtMs >= RETRY_LOG_INTERVAL_MS) {
        logger.warn({ connection: name, servers, attempt, failedSinceLastLine: failedSinceLog, err: describe(error), retryInMs: sleepMs }, 'NATS unreachable: retrying');
        loggedAtMs = nowMs;
        failedSinceLog = 0;
      }
      await sleep(sleepMs, retry.signal);
      waitMs = Math.min(waitMs * 2, RETRY_MAX_MS);
    }
  }
}

async function throwIfCertificateRefused(options: ConnectionOptions, where: string): Promise<void> {
  for (const server of ([] as string[]).concat(options.servers ?? [])) {
    const ended = await probeClientCertificateRefusal(server, (options.tls ?? undefined) as TlsFiles | undefined);
    if (ended !== null) {
      throw new NatsRefusedError(`${where}: ${server} ended the connection right after the TLS handshake (${ended})`, 'client-certificate', null);
    }
  }
}

const jittered = (ms: number): number => Math.round(ms * (1 - RETRY_JITTER + 2 * RETRY_JITTER * Math.random()));

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
