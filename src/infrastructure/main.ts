import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseServerInvocation } from './cli/server-options';
import { Broker } from './lifecycle/broker';
import { createLogger } from './logging/create-logger';

function packageVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    dir = path.dirname(dir);
  }
  return 'dev';
}

/**
 * The `liftbridge` executable: parse flags and configuration, start the broker, stop it cleanly on
 * SIGINT/SIGTERM (stop accepting, flush and close logs, stop embedded NATS), exit non-zero on a
 * start failure with the reason on stderr.
 */
export async function main(argv: readonly string[]): Promise<void> {
  const invocation = await parseServerInvocation(argv, process.env, packageVersion());
  if (invocation.kind === 'exit') {
    (invocation.code === 0 ? process.stdout : process.stderr).write(invocation.output);
    process.exitCode = invocation.code;
    return;
  }
  const config = invocation.config;
  const logger = createLogger(config.logging.level, config.logging.format);
  const broker = new Broker(config, logger);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    broker.stop().then(
      () => logger.flush(() => process.exit(0)),
      () => logger.flush(() => process.exit(1)),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => logger.info({}, 'SIGHUP ignored: nothing to reload yet'));
  try {
    await broker.start();
  } catch (error) {
    logger.error({ err: error }, 'failed to start');
    process.stderr.write(`liftbridge: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    logger.flush(() => process.exit(1));
  }
}
