import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAdminInvocation, runAdmin } from './cli/admin/admin-program';
import type { AdminIo } from './cli/admin/admin-common';
import { parseServerInvocation } from './cli/server-options';

function packageVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    dir = path.dirname(dir);
  }
  return 'dev';
}

/** The admin commands' I/O: the process's streams, Ctrl-C as an interrupt. */
function processIo(): AdminIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdin: process.stdin,
    stderrIsTty: process.stderr.isTTY === true,
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/**
 * Runs an admin command (`liftbridge stream|publish|subscribe|bench ...`) and exits with its code.
 * Exits explicitly once stdout is flushed: an interrupted stdin read or a closing gRPC channel
 * must not keep a finished command alive.
 */
async function adminMain(argv: readonly string[]): Promise<void> {
  // Ctrl-C before a command installs its own handler (e.g. while connecting) ends the process.
  const early = (): void => process.exit(130);
  process.on('SIGINT', early);
  // A reader that went away (`liftbridge subscribe s | head -1`) ends the command quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
  const code = await runAdmin(argv, {
    ...processIo(),
    onInterrupt: (handler) => {
      process.off('SIGINT', early);
      return processIo().onInterrupt(handler);
    },
  }, packageVersion());
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

/**
 * The `liftbridge` executable: admin commands when the first argument names one (see
 * docs/cli.md), else the server. For the server: parse flags and configuration, start the broker, stop it cleanly on
 * SIGINT/SIGTERM (stop accepting, flush and close logs, stop embedded NATS), exit non-zero on a
 * start failure with the reason on stderr.
 */
export async function main(argv: readonly string[]): Promise<void> {
  if (isAdminInvocation(argv)) return adminMain(argv);
  const invocation = await parseServerInvocation(argv, process.env, packageVersion());
  if (invocation.kind === 'exit') {
    (invocation.code === 0 ? process.stdout : process.stderr).write(invocation.output);
    process.exitCode = invocation.code;
    return;
  }
  const config = invocation.config;
  // Loaded here, not at the top: admin commands start faster without the broker's modules.
  const { Broker } = await import('./lifecycle/broker');
  const { createLogger } = await import('./logging/create-logger');
  const logger = createLogger(config.logging.level, config.logging.format);
  const broker = new Broker(config, logger);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      // A second signal: skip what is left of the controlled shutdown (handing leadership over).
      logger.info({ signal }, 'shutting down now');
      void broker.stopNow();
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    broker.stop().then(
      () => logger.flush(() => process.exit(0)),
      () => logger.flush(() => process.exit(1)),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Reloads the client API's certificates and authorization policy (docs/security.md); harmless without them.
  process.on('SIGHUP', () => {
    broker.reloadSecurity().catch((error: unknown) => logger.error({ err: error }, 'SIGHUP: reload failed'));
  });
  try {
    await broker.start();
  } catch (error) {
    if (stopping) return; // a signal ended the start (e.g. while waiting for NATS): shutdown() exits
    logger.error({ err: error }, 'failed to start');
    process.stderr.write(`liftbridge: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    logger.flush(() => process.exit(1));
  }
}
