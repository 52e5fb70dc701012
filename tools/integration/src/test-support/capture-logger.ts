import type { LogFn, Logger } from '@taskq/recorder';

export interface CapturedLine {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly msg: string;
  readonly obj: Record<string, unknown>;
}

/** A Logger for library objects under test that keeps every line, for assertions. */
export class CaptureLogger implements Logger {
  readonly lines: CapturedLine[] = [];
  readonly error: LogFn = this.fn('error');
  readonly warn: LogFn = this.fn('warn');
  readonly info: LogFn = this.fn('info');
  readonly debug: LogFn = this.fn('debug');

  child(): Logger {
    return this;
  }

  messages(): string[] {
    return this.lines.map((l) => l.msg);
  }

  private fn(level: CapturedLine['level']): LogFn {
    return (objOrMsg: object | string, msg?: string) => {
      if (typeof objOrMsg === 'string') this.lines.push({ level, obj: {}, msg: objOrMsg });
      else this.lines.push({ level, obj: objOrMsg as Record<string, unknown>, msg: msg ?? '' });
    };
  }
}
