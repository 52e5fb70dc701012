import pino from 'pino';
import type { Logger } from '@taskq/recorder';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Minimum level. Default `info`. */
  readonly level?: LogLevel;
  /** Name shown for lines without a more specific one (e.g. `producer`). */
  readonly name: string;
  /**
   * `json`: one JSON object per line (for log collectors). `pretty`: readable
   * lines such as `[worker-4711-2] START task_18`. Default: `json` when
   * LOG_FORMAT=json or stdout is not a terminal, else `pretty`.
   */
  readonly format?: 'json' | 'pretty';
  /** Where lines go. Default process.stdout. */
  readonly stream?: NodeJS.WritableStream;
}


/** A field of a parsed line as text: a string as it is, any other value as JSON (not `[object Object]`). */
const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** Renders one pino JSON line the way a person reads it: `[name] message`. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof o['level'] === 'number' ? o['level'] : 30;
  const tag = level >= 50 ? 'ERROR ' : level >= 40 ? 'WARN ' : '';
  const err = o['err'] as { message?: string } | undefined;
  const extra = level >= 40 && err?.message && !String(o['msg']).includes(err.message) ? ` (${err.message})` : '';
  const msg = asText(o['msg'] ?? '');
  // lines that carry their own label (the Monitor's `[Monitor] …`) keep it
  if (msg.startsWith('[')) return `${tag}${msg}${extra}\n`;
  const label = o['worker'] ?? o['component'] ?? o['name'] ?? 'taskq';
  return `[${asText(label)}] ${tag}${msg}${extra}\n`;
}

/** Creates the app's pino logger; libraries receive it as their `Logger`. */
export function createLogger(options: LoggerOptions): Logger & pino.Logger {
  const out = options.stream ?? process.stdout;
  const format =
    options.format ??
    (process.env['LOG_FORMAT'] === 'json' || !(out as NodeJS.WriteStream).isTTY ? 'json' : 'pretty');
  const destination = format === 'pretty' ? { write: (line: string) => out.write(prettyLine(line)) } : out;
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { pid: process.pid },
      serializers: { err: pino.stdSerializers.err },
    },
    destination as pino.DestinationStream,
  );
}
