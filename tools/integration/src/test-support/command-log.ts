import type { Redis } from 'ioredis';
import { SCRIPT_KEYS, type QueueKeys } from '@taskq/queue';

/**
 * redis-server arguments that make the SLOWLOG record every command (each
 * takes >= 0 µs), with room for a few hundred thousand. For a server of the
 * test's own: the shared one must not change its configuration under others.
 */
export const LOG_EVERY_COMMAND = ['--slowlog-log-slower-than', '0', '--slowlog-max-len', '500000'] as const;

/** One command as the server's SLOWLOG recorded it (arguments beyond 32, or beyond 128 bytes, are cut). */
export interface LoggedCommand {
  readonly id: number;
  readonly args: readonly string[];
  readonly clientName: string;
}

/**
 * Counts the commands a redis-server ran, through its SLOWLOG (configured
 * with LOG_EVERY_COMMAND): a way to count particular script calls (by their
 * KEYS) without MONITOR, from any number of client processes. Lua scripts'
 * inner commands are not logged, only the EVALSHA/EVAL that ran them.
 */
export class CommandLog {
  constructor(private readonly admin: Redis) {}

  /** Forgets everything logged so far. */
  async reset(): Promise<void> {
    await this.admin.call('SLOWLOG', 'RESET');
  }

  /** Everything logged since the last reset, oldest first (without the log's own SLOWLOG calls). */
  async read(): Promise<LoggedCommand[]> {
    const entries = (await this.admin.call('SLOWLOG', 'GET', '-1')) as unknown[][];
    return entries
      .map((e) => ({
        id: Number(e[0]),
        args: (e[3] as unknown[]).map(String),
        clientName: (e[5] as string | undefined) ?? '',
      }))
      .filter((c) => c.args[0]?.toLowerCase() !== 'slowlog')
      .sort((a, b) => a.id - b.id);
  }
}

function isScript(c: LoggedCommand): boolean {
  const name = c.args[0]?.toLowerCase();
  return name === 'evalsha' || name === 'eval';
}

/** The fetch script of `keys`' queue (KEYS: ready list, then a processing list). */
export function isFetchCall(keys: QueueKeys): (c: LoggedCommand) => boolean {
  const processing = keys.processing('');
  return (c) => isScript(c) && c.args[3] === keys.ready && (c.args[4] ?? '').startsWith(processing);
}

/** The heartbeat script of `keys`' queue (its KEYS, the consumers set first). */
export function isHeartbeatCall(keys: QueueKeys): (c: LoggedCommand) => boolean {
  return (c) => isScript(c) && c.args[2] === String(SCRIPT_KEYS.heartbeat.length) && c.args[3] === keys.consumers;
}

/** The consumer id of a heartbeat call (its first ARGV, after EVALSHA, the sha, the key count and the KEYS). */
export function heartbeatConsumer(c: LoggedCommand): string | undefined {
  return c.args[3 + SCRIPT_KEYS.heartbeat.length];
}
