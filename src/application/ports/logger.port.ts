/**
 * Structured logging as the application and adapters need it. The shape is pino's (object first,
 * message second), so the production adapter is a thin wrapper and tests can capture lines.
 */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  /** A logger that adds `bindings` to every line (e.g. `{ stream, partition }`). */
  child(bindings: Record<string, unknown>): Logger;
}
