import type { Logger } from '@taskq/recorder';
import type { QueueKeys } from './keys';
import type { RedisClient } from './redis-handle';
import { SCRIPTS } from './lua-script';
import { scriptKeys } from './script-keys';
import { InvalidLimitError } from './errors/invalid-limit-error';

/**
 * A global limit of a queue or of one task type, obeyed by every worker of
 * the queue wherever it runs (it is kept in Redis and checked inside the fetch
 * script). At least one of the two.
 */
export interface Limit {
  /** At most this many tasks (of the type, or of the queue) running at once. */
  readonly concurrency?: number;
  /** At most `max` task starts in any window of `intervalMs` (a sliding window). */
  readonly rate?: { readonly max: number; readonly intervalMs: number };
}

/** The limits set on a queue (see Queue.limits()). */
export interface Limits {
  /** The queue's own limit, over all its tasks; undefined when none. */
  readonly queue?: Limit;
  /** Limits per task type. */
  readonly types: Readonly<Record<string, Limit>>;
}

/** Most task types with limits in one queue (each has its range of scores in the starts and parked sets). */
export const MAX_LIMITED_TYPES = 500;
/** Bounds of a limit's numbers. */
export const MAX_LIMIT_CONCURRENCY = 1_000_000;
/** A rate's max: the starts log keeps one entry per start in the window. */
export const MAX_RATE = 100_000;
export const MAX_RATE_INTERVAL_MS = 86_400_000;

function wholeIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The scope's name in messages. */
function scopeName(type: string | undefined): string {
  return type === undefined ? 'the queue' : `type ${JSON.stringify(type)}`;
}

/** Checks a limit (InvalidLimitError) and returns the script's arguments: concurrency and rate ('' for none). */
export function encodeLimit(limit: Limit, type?: string): [string, string] {
  const where = scopeName(type);
  if (type !== undefined) {
    if (typeof type !== 'string' || type.length < 1 || type.length > 200) {
      throw new InvalidLimitError(`a limit's type must be a task type (1-200 characters), got ${JSON.stringify(type)}`);
    }
    // the fetch script reads a task's type from its stored JSON without unescaping it
    if (JSON.stringify(type) !== `"${type}"`) {
      throw new InvalidLimitError(`${where}: a type with a limit must need no JSON escaping (no quotes, backslashes or control characters)`);
    }
  }
  if (typeof limit !== 'object' || limit === null) throw new InvalidLimitError(`${where}: a limit must be an object`);
  const { concurrency, rate } = limit;
  if (concurrency === undefined && rate === undefined) {
    throw new InvalidLimitError(`${where}: give concurrency, rate or both (removeLimit() removes a limit)`);
  }
  if (concurrency !== undefined && !wholeIn(concurrency, 1, MAX_LIMIT_CONCURRENCY)) {
    throw new InvalidLimitError(`${where}: concurrency must be a whole number from 1 to ${MAX_LIMIT_CONCURRENCY}, got ${String(concurrency)}`);
  }
  if (rate !== undefined) {
    if (typeof rate !== 'object' || rate === null) throw new InvalidLimitError(`${where}: rate must be { max, intervalMs }`);
    if (!wholeIn(rate.max, 1, MAX_RATE)) {
      throw new InvalidLimitError(`${where}: rate.max must be a whole number from 1 to ${MAX_RATE}, got ${String(rate.max)}`);
    }
    if (!wholeIn(rate.intervalMs, 1, MAX_RATE_INTERVAL_MS)) {
      throw new InvalidLimitError(`${where}: rate.intervalMs must be a whole number from 1 to ${MAX_RATE_INTERVAL_MS}, got ${String(rate.intervalMs)}`);
    }
  }
  return [concurrency === undefined ? '' : String(concurrency), rate === undefined ? '' : `${rate.max}/${rate.intervalMs}`];
}

/** Sets the limit of the queue (type undefined) or of a type, replacing what that scope had. */
export async function setLimit(redis: RedisClient, keys: QueueKeys, limit: Limit, type?: string): Promise<void> {
  const [concurrency, rate] = encodeLimit(limit, type);
  const reply = await SCRIPTS.limitSet.run(redis, scriptKeys('limitSet', keys), [keys.wake, type ?? '', concurrency, rate, MAX_LIMITED_TYPES]);
  if (reply === 'too-many') {
    throw new InvalidLimitError(`${scopeName(type)}: a queue has limits for at most ${MAX_LIMITED_TYPES} types; remove one first`);
  }
}

/** Removes the limits of the queue (type undefined) or of a type; false when it had none. */
export async function removeLimit(redis: RedisClient, keys: QueueKeys, type?: string): Promise<boolean> {
  if (type !== undefined && typeof type !== 'string') throw new InvalidLimitError(`a limit's type must be a string, got ${typeof type}`);
  const reply = await SCRIPTS.limitSet.run(redis, scriptKeys('limitSet', keys), [keys.wake, type ?? '', '', '', MAX_LIMITED_TYPES]);
  return Number(reply) === 1;
}

function decodeRate(value: string): Limit['rate'] {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  return m ? { max: Number(m[1]), intervalMs: Number(m[2]) } : undefined;
}

/** The limits hash, decoded. */
export async function readLimits(redis: RedisClient, keys: QueueKeys): Promise<Limits> {
  const raw = await redis.hgetall(keys.limits);
  const scopes: Record<string, { concurrency?: number; rate?: Limit['rate'] }> = {};
  const scope = (name: string): { concurrency?: number; rate?: Limit['rate'] } => (scopes[name] ??= {});
  for (const [field, value] of Object.entries(raw)) {
    if (field === 'concurrency') scope('').concurrency = Number(value);
    else if (field === 'rate') scope('').rate = decodeRate(value);
    else {
      const m = /^type:(.+):(concurrency|rate)$/.exec(field);
      if (!m) continue;
      if (m[2] === 'concurrency') scope(`t:${m[1]}`).concurrency = Number(value);
      else scope(`t:${m[1]}`).rate = decodeRate(value);
    }
  }
  const clean = (s: { concurrency?: number; rate?: Limit['rate'] }): Limit => ({
    ...(s.concurrency !== undefined ? { concurrency: s.concurrency } : {}),
    ...(s.rate !== undefined ? { rate: s.rate } : {}),
  });
  const types: Record<string, Limit> = {};
  for (const name of Object.keys(scopes).filter((n) => n.startsWith('t:')).sort()) types[name.slice(2)] = clean(scopes[name]);
  return { ...(scopes[''] ? { queue: clean(scopes['']) } : {}), types };
}

/** What one repair of the limits' bookkeeping corrected (all 0 in normal operation). */
export interface LimitsRepair {
  /** Held slots of tasks no longer running, or of types without a concurrency limit, dropped. */
  readonly dropped: number;
  /** Types whose count of held slots was corrected. */
  readonly corrected: number;
  /** Parked tasks of no limited type returned to the ready tasks. */
  readonly unparked: number;
}

/**
 * The janitor's check of the limits' bookkeeping (limits-repair.lua): one
 * EXISTS when the queue has no limit. Logs what it corrected.
 */
export async function repairLimits(redis: RedisClient, keys: QueueKeys, logger?: Logger): Promise<LimitsRepair> {
  const reply = (await SCRIPTS.limitsRepair.run(redis, scriptKeys('limitsRepair', keys), [keys.wake])) as unknown[];
  const [dropped, corrected, unparked] = reply.map(Number);
  if (dropped + corrected + unparked > 0) {
    logger?.warn(
      { queue: keys.queue, dropped, corrected, unparked },
      `limits of queue ${keys.queue} repaired: ${dropped} slot(s) of tasks no longer running freed, ${corrected} type count(s) corrected, ${unparked} parked task(s) returned`,
    );
  }
  return { dropped, corrected, unparked };
}
