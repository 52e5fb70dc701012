import { Cron } from 'croner';
import { TaskqError } from '@taskq/recorder';
import type { QueueKeys } from './keys';
import type { RedisClient } from './redis-handle';
import { validateInput, type EnqueueOptions, type TaskInput } from './task';
import { payloadProblem } from './payload';
import { SCRIPTS } from './lua-script';
import { scriptKeys } from './script-keys';

/** A schedule that cannot be registered: its name, cron expression, time zone, interval or task. */
export class InvalidScheduleError extends TaskqError {
  override readonly name = 'InvalidScheduleError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('TASKQ_INVALID_SCHEDULE', message, options);
  }
}

/** The task a schedule enqueues at each tick: a task input without id, delay or due time (the tick gives them). */
export type ScheduledTask = Omit<TaskInput, 'id' | 'delayMs' | 'runAt'>;

/** When a schedule ticks: a cron expression (in a time zone) or a fixed interval. */
export interface ScheduleSpec {
  /**
   * Cron expression: five fields (minute hour day-of-month month day-of-week)
   * or six (seconds first), as croner reads them (`0 3 * * *`, `*\/15 * * * *`,
   * `0 0 9 * * MON-FRI`). Exclusive with `everyMs`.
   */
  readonly cron?: string;
  /** IANA time zone the cron expression is read in (`Europe/Oslo`). Default UTC. */
  readonly timezone?: string;
  /**
   * A fixed interval, ms (whole number >= 1000): ticks at the multiples of it
   * since 1970-01-01T00:00Z, so `60_000` ticks at each full minute and
   * `300_000` at :00, :05, … whoever registered it when. Exclusive with `cron`.
   */
  readonly everyMs?: number;
  /** What each tick enqueues. */
  readonly task: ScheduledTask;
}

/** A registered schedule, as `Queue.schedules()` lists it. */
export interface Schedule extends ScheduleSpec {
  readonly name: string;
  /** The time of the next tick, ms since the epoch. */
  readonly next: number;
}

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The id of the task a schedule's tick enqueues: one per schedule and tick time, so a tick enqueues once. */
export function tickTaskId(name: string, tickAt: number): string {
  return `schedule:${name}:${tickAt}`;
}

/** Checks a schedule (throws InvalidScheduleError) and returns its stored form (JSON, without the next tick). */
export function encodeSchedule(name: string, spec: ScheduleSpec, now: number): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidScheduleError(`schedule name must be 1-100 characters of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(name)}`);
  }
  if ((spec.cron === undefined) === (spec.everyMs === undefined)) throw new InvalidScheduleError(`schedule ${name}: give cron or everyMs, exactly one`);
  if (spec.everyMs !== undefined && !(Number.isInteger(spec.everyMs) && spec.everyMs >= 1000)) {
    throw new InvalidScheduleError(`schedule ${name}: everyMs must be a whole number >= 1000, got ${String(spec.everyMs)}`);
  }
  if (spec.timezone !== undefined && spec.cron === undefined) throw new InvalidScheduleError(`schedule ${name}: timezone goes with cron`);
  if (spec.cron !== undefined) {
    try {
      new Cron(spec.cron, { timezone: spec.timezone, paused: true }).nextRun(new Date(now));
    } catch (cause) {
      throw new InvalidScheduleError(`schedule ${name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }
  const task = spec.task as TaskInput & { id?: unknown; delayMs?: unknown; runAt?: unknown };
  if (typeof task !== 'object' || task === null) throw new InvalidScheduleError(`schedule ${name}: task must be an object`);
  if (task.id !== undefined || task.delayMs !== undefined || task.runAt !== undefined) {
    throw new InvalidScheduleError(`schedule ${name}: the task takes no id, delayMs or runAt (each tick gives its own)`);
  }
  try {
    validateInput({ ...task, id: tickTaskId(name, now) });
    const problem = payloadProblem(task.payload ?? null);
    if (problem !== undefined) throw new Error(problem);
  } catch (cause) {
    throw new InvalidScheduleError(`schedule ${name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const { type, payload, maxAttempts, backoff, timeoutMs, priority } = task;
  const options: EnqueueOptions = { maxAttempts, backoff, timeoutMs, priority };
  return JSON.stringify({
    ...(spec.cron !== undefined ? { cron: spec.cron, ...(spec.timezone !== undefined ? { timezone: spec.timezone } : {}) } : { everyMs: spec.everyMs }),
    task: { type, payload: payload ?? null, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) },
  });
}

/** The stored form back; undefined when it is not one. */
export function decodeSchedule(name: string, raw: string, next: number): Schedule | undefined {
  try {
    const v = JSON.parse(raw) as { cron?: string; timezone?: string; everyMs?: number; task: ScheduledTask };
    return { name, ...v, next };
  } catch {
    return undefined;
  }
}

/** The first tick of `s` strictly after `after` (ms). */
export function nextTick(s: Pick<Schedule, 'cron' | 'timezone' | 'everyMs'>, after: number): number {
  if (s.everyMs !== undefined) return (Math.floor(after / s.everyMs) + 1) * s.everyMs;
  const next = new Cron(s.cron ?? '', { timezone: s.timezone, paused: true }).nextRun(new Date(after));
  if (next === null) throw new InvalidScheduleError(`cron ${String(s.cron)} has no tick after ${new Date(after).toISOString()}`);
  return next.getTime();
}

/**
 * Registers `spec` under `name` (see Queue.schedule): the stored spec and
 * the next tick. Re-registering the same spec keeps the next tick.
 */
export async function setSchedule(redis: RedisClient, keys: QueueKeys, name: string, spec: ScheduleSpec, now: number): Promise<Schedule> {
  const raw = encodeSchedule(name, spec, now);
  const stored = decodeSchedule(name, raw, 0) as Schedule;
  const first = nextTick(stored, now);
  const next = Number(await SCRIPTS.scheduleSet.run(redis, scriptKeys('scheduleSet', keys), [name, raw, first]));
  return { ...stored, next };
}

export async function listSchedules(redis: RedisClient, keys: QueueKeys): Promise<Schedule[]> {
  const [all, nexts] = await Promise.all([redis.hgetall(keys.schedules), redis.zrange(keys.scheduled, 0, -1, 'WITHSCORES')]);
  const next = new Map<string, number>();
  for (let i = 0; i + 1 < nexts.length; i += 2) next.set(nexts[i], Number(nexts[i + 1]));
  const out: Schedule[] = [];
  for (const [name, raw] of Object.entries(all)) {
    const s = decodeSchedule(name, raw, next.get(name) ?? NaN);
    if (s) out.push(s);
  }
  return out.sort((a, b) => a.next - b.next || a.name.localeCompare(b.name));
}

export async function removeSchedule(redis: RedisClient, keys: QueueKeys, name: string): Promise<boolean> {
  const [removed] = await Promise.all([redis.hdel(keys.schedules, name), redis.zrem(keys.scheduled, name)]);
  return removed > 0;
}

/** A tick a janitor pass enqueued. */
export interface Tick {
  readonly schedule: string;
  readonly at: number;
  readonly taskId: string;
}

/** Most missed ticks of one schedule a janitor pass catches up on; beyond that they make one run. */
export const MAX_CATCH_UP = 5;

/** Redis's TIME reply (seconds, microseconds) as ms since 1970. */
export function timeMs([sec, usec]: readonly (string | number)[]): number {
  return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
}

/**
 * Enqueues the task of every schedule whose tick is due on the Redis server's
 * clock, once per tick: the task's id is the schedule's name and the tick
 * time (an id enqueued again is left as it is), and the schedule moves on
 * only if it is still at the tick it started from. A late pass catches up on
 * every due tick, up to MAX_CATCH_UP; more missed ticks than that (every
 * worker down for a while) make one run, for the first of them, and the
 * schedule goes on from the next tick after now. One round trip when none is due.
 */
export async function runDueTicks(redis: RedisClient, keys: QueueKeys, enqueueMany: (inputs: TaskInput[]) => Promise<unknown>): Promise<Tick[]> {
  // the server's time and the soonest ticks together; the due ones are the first of them
  const replies = (await redis.pipeline().time().zrangebyscore(keys.scheduled, '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, 100).exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const now = timeMs(replies[0][1] as string[]);
  const soonest = replies[1][1] as string[];
  const ticks: Tick[] = [];
  for (let i = 0; i + 1 < soonest.length && Number(soonest[i + 1]) <= now; i += 2) {
    const name = soonest[i];
    const from = Number(soonest[i + 1]);
    const raw = await redis.hget(keys.schedules, name);
    const s = raw === null ? undefined : decodeSchedule(name, raw, from);
    if (!s || raw === null) {
      await redis.zrem(keys.scheduled, name); // a schedule without its spec (removed meanwhile)
      continue;
    }
    const times: number[] = [];
    let next = from;
    while (next <= now && times.length <= MAX_CATCH_UP) {
      times.push(next);
      next = nextTick(s, next);
    }
    if (times.length > MAX_CATCH_UP) {
      times.length = 1;
      next = nextTick(s, now);
    }
    const due = times.map((at) => ({ schedule: name, at, taskId: tickTaskId(name, at) }));
    await enqueueMany(due.map((t) => ({ ...s.task, id: t.taskId })));
    await SCRIPTS.scheduleAdvance.run(redis, scriptKeys('scheduleAdvance', keys), [name, raw, from, next]);
    ticks.push(...due);
  }
  return ticks;
}
