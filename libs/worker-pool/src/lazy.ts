import type { LogFn, Logger } from '@taskq/recorder';

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

/** A child logger made on first use (pino's child() is not free, and most task lines are below the level). */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const get = (): Logger => (child ??= parent.child(bindings));
  const level =
    (name: 'error' | 'warn' | 'info' | 'debug'): LogFn =>
    (objOrMsg: object | string, msg?: string) => {
      if (parent.isLevelEnabled && !parent.isLevelEnabled(name)) return;
      const target = get();
      if (typeof objOrMsg === 'string') target[name](objOrMsg);
      else target[name](objOrMsg, msg);
    };
  return {
    error: level('error'),
    warn: level('warn'),
    info: level('info'),
    debug: level('debug'),
    child: (more) => get().child(more),
    isLevelEnabled: (name) => parent.isLevelEnabled?.(name) ?? true,
  };
}
