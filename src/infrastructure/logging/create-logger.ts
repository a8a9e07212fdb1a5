import pino from 'pino';
import { Writable } from 'node:stream';
import { Logger } from '../../application/ports/logger.port';

export type LogFormat = 'json' | 'pretty';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A readable one-line-per-entry format for terminals: `time LEVEL message key=value …`. */
function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const { time, level, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const fields = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          out.write(`${new Date(Number(time)).toISOString()} ${LEVEL_NAMES[Number(level)] ?? level} ${String(msg)}${fields ? ` ${fields}` : ''}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      callback();
    },
  });
}

/** The broker's structured logger (pino). pino's (object, message) signature is the Logger port's. */
export function createLogger(level: string, format: LogFormat, destination: NodeJS.WritableStream = process.stdout): Logger & pino.Logger {
  const stream = format === 'pretty' ? prettyStream(destination) : destination;
  return pino({ level, base: { pid: process.pid }, serializers: { err: pino.stdSerializers.err } }, stream as pino.DestinationStream);
}
