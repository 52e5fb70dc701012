import type { Redis } from 'ioredis';
import type { RecordKeys } from '../record-keys';
import { RECORD_LUA } from '../record-lua';

/**
 * A minimal script that calls the prelude the way queue scripts do:
 * KEYS = status hash, seq counter; ARGV = channel, id, status, attempt, worker, reason.
 */
export const RECORD_SCRIPT =
  RECORD_LUA +
  '\nlocal rec = taskq_record(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), taskq_now(), ARGV[5], ARGV[6])\ntaskq_flush()\nreturn rec';

export interface RecordCall {
  readonly id: string;
  readonly status: string;
  readonly attempt: number;
  /** Empty or absent: no worker. */
  readonly worker?: string;
  /** Empty or absent: no reason. */
  readonly reason?: string;
}

/** The subset of a client the script needs; ioredis and ioredis-mock both have it. */
export type EvalClient = Pick<Redis, 'eval'>;

/** Runs the record script for `call` on `keys`' queue and returns the record string it wrote. */
export async function record(redis: EvalClient, keys: RecordKeys, call: RecordCall): Promise<string> {
  const out = await redis.eval(
    RECORD_SCRIPT,
    2,
    keys.status,
    keys.seq,
    keys.events,
    call.id,
    call.status,
    String(call.attempt),
    call.worker ?? '',
    call.reason ?? '',
  );
  if (typeof out !== 'string') throw new Error(`record script returned ${typeof out}`);
  return out;
}

/** Every ASCII character (controls included), quotes, backslashes, escapes that must stay literal, and multi-byte UTF-8. */
export const NASTY_REASON =
  Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('') +
  ' "quoted" \'single\' back\\slash \\n \\u0041 %d %s %% ' +
  'line1\nline2\r\n\ttabbed é ü ß 中文 ✓ 😀 \u2028\u2029 "}{" end\\';

/** Resolves with the first message published on `channel` of a subscriber connection. */
export function nextMessage(subscriber: Pick<Redis, 'on' | 'off'>, channel: string): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (ch: string, message: string): void => {
      if (ch !== channel) return;
      subscriber.off('message', onMessage);
      resolve(message);
    };
    subscriber.on('message', onMessage);
  });
}
