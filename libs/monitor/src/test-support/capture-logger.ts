import type { LogFn, Logger } from '@taskq/recorder';

export interface LogLine {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** A Logger that keeps every call, for assertions. */
export class CaptureLogger implements Logger {
  readonly lines: LogLine[] = [];
  readonly error: LogFn = this.fn('error');
  readonly warn: LogFn = this.fn('warn');
  readonly info: LogFn = this.fn('info');
  readonly debug: LogFn = this.fn('debug');

  child(): Logger {
    return this;
  }

  messages(level: LogLine['level']): Array<string | undefined> {
    return this.lines.filter((l) => l.level === level).map((l) => l.msg);
  }

  private fn(level: LogLine['level']): LogFn {
    return (objOrMsg: object | string, msg?: string) => {
      if (typeof objOrMsg === 'string') this.lines.push({ level, obj: {}, msg: objOrMsg });
      else this.lines.push({ level, obj: objOrMsg as Record<string, unknown>, msg });
    };
  }
}
