import type { Logger } from '@taskq/recorder';

/**
 * An AbortController made on first use: most tasks finish without anybody
 * reading their signal or aborting them, and a busy pool runs tens of
 * thousands a second.
 */
export class LazyAbort {
  private controller: AbortController | undefined;

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
  }
}

/**
 * A child logger made on first use (pino's child() is not free, and most
 * task lines are below the level). One object per task, methods shared.
 */
export class LazyLogger implements Logger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    /** Gives the child's bindings when it is made: most tasks never log a line at the enabled level. */
    private readonly source: { logBindings(): Record<string, unknown> },
  ) {}

  error(objOrMsg: object | string, msg?: string): void {
    this.write('error', objOrMsg, msg);
  }

  warn(objOrMsg: object | string, msg?: string): void {
    this.write('warn', objOrMsg, msg);
  }

  info(objOrMsg: object | string, msg?: string): void {
    this.write('info', objOrMsg, msg);
  }

  debug(objOrMsg: object | string, msg?: string): void {
    this.write('debug', objOrMsg, msg);
  }

  child(bindings: Record<string, unknown>): Logger {
    return this.get().child(bindings);
  }

  isLevelEnabled(name: 'error' | 'warn' | 'info' | 'debug'): boolean {
    return this.parent.isLevelEnabled?.(name) ?? true;
  }

  private get(): Logger {
    return (this.made ??= this.parent.child(this.source.logBindings()));
  }

  private write(name: 'error' | 'warn' | 'info' | 'debug', objOrMsg: object | string, msg?: string): void {
    if (!this.isLevelEnabled(name)) return;
    const target = this.get();
    if (typeof objOrMsg === 'string') target[name](objOrMsg);
    else target[name](objOrMsg, msg);
  }
}
