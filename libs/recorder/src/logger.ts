/**
 * The logging surface taskq libraries use: a subset of pino's Logger, so apps
 * pass a pino instance and tests pass `silentLogger` or a recorder of calls.
 * Libraries never depend on pino itself.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  /** Whether a level would be written (pino has it); lets hot paths skip building a line. */
  isLevelEnabled?(level: string): boolean;
}

const noop: LogFn = () => undefined;

/** A Logger that drops everything. */
export const silentLogger: Logger = {
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
