/**
 * Task progress: what a handler reports with `ctx.progress(…)` (see
 * TaskContext in @taskq/worker-pool), as stored in the queue's progress hash
 * and published on its events channel.
 */

/** What a handler may report: a percentage 0–100, or how much of how much is done. */
export type ProgressValue = number | { readonly done: number; readonly total: number };

/** A running task's latest progress (Queue.progress, Monitor.onProgress). */
export interface TaskProgress {
  /** Percent done, 0–100 (at most two decimals; `done / total` when those were given, 100 for a total of 0). */
  readonly pct: number;
  /** With `{ done, total }`: as reported. */
  readonly done?: number;
  readonly total?: number;
  /** The handler's message, when it gave one (at most PROGRESS_MESSAGE_MAX characters). */
  readonly msg?: string;
  /** When Redis took it: Redis server time, ms. */
  readonly at: number;
}

/** One task's progress in a progress event. */
export interface ProgressUpdate extends TaskProgress {
  readonly id: string;
}

/**
 * A progress event on the events channel: one message per progress script
 * call, for every task whose update it stored, e.g.
 * `{"event":"progress","at":1796351881812,"tasks":[{"id":"t1","pct":40,"done":4,"total":10,"msg":"…","at":1796351881812}]}`.
 * It carries no `seq`: progress is not a transition, and a lost progress
 * message leaves nothing to resync (the next update, or the outcome, follows).
 */
export interface ProgressEvent {
  readonly event: 'progress';
  readonly at: number;
  readonly tasks: readonly ProgressUpdate[];
}

/** Longest message kept with a progress update; longer ones are cut (with `…`). */
export const PROGRESS_MESSAGE_MAX = 1000;

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/**
 * Checks a handler's progress report and encodes it as the progress script
 * takes it: a JSON object without `at`, always with `pct` first (the script
 * appends `at`). Throws a TypeError naming what is wrong.
 */
export function encodeProgress(value: ProgressValue, message?: string): string {
  let body: { pct: number; done?: number; total?: number; msg?: string };
  if (typeof value === 'number') {
    if (!(Number.isFinite(value) && value >= 0 && value <= 100)) {
      throw new TypeError(`progress must be a percentage from 0 to 100 or { done, total }, got ${String(value)}`);
    }
    body = { pct: round2(value) };
  } else if (typeof value === 'object' && value !== null) {
    const { done, total } = value as { done: unknown; total: unknown };
    if (!isCount(done) || !isCount(total)) {
      throw new TypeError(`progress { done, total } needs two finite numbers >= 0, got { done: ${String(done)}, total: ${String(total)} }`);
    }
    if (done > total) throw new TypeError(`progress { done, total } needs done <= total, got { done: ${done}, total: ${total} }`);
    body = { pct: total === 0 ? 100 : Math.min(100, round2((done / total) * 100)), done, total };
  } else {
    throw new TypeError(`progress must be a percentage from 0 to 100 or { done, total }, got ${typeof value}`);
  }
  if (message !== undefined) {
    if (typeof message !== 'string') throw new TypeError(`a progress message must be a string, got ${typeof message}`);
    body.msg = message.length > PROGRESS_MESSAGE_MAX ? `${message.slice(0, PROGRESS_MESSAGE_MAX - 1)}…` : message;
  }
  return JSON.stringify(body);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The fields of a stored progress (or an event's entry); undefined when it is not one. */
function progressOf(v: Record<string, unknown>): TaskProgress | undefined {
  const { pct, done, total, msg, at } = v;
  if (typeof pct !== 'number' || typeof at !== 'number') return undefined;
  return {
    pct,
    ...(typeof done === 'number' && typeof total === 'number' ? { done, total } : {}),
    ...(typeof msg === 'string' ? { msg } : {}),
    at,
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a value of the progress hash; undefined for anything else. */
export function decodeProgress(text: string): TaskProgress | undefined {
  const v = parseObject(text);
  return v && progressOf(v);
}

/** Decodes a progress event (progress.lua); undefined for any other message of the events channel. */
export function decodeProgressEvent(text: string): ProgressEvent | undefined {
  // status messages are arrays, queue events objects with another "event": cheap to tell apart
  if (!text.startsWith('{"event":"progress"')) return undefined;
  const v = parseObject(text);
  if (!v || typeof v['at'] !== 'number' || !Array.isArray(v['tasks'])) return undefined;
  const tasks: ProgressUpdate[] = [];
  for (const item of v['tasks'] as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const entry = item as Record<string, unknown>;
    const progress = progressOf(entry);
    if (progress && typeof entry['id'] === 'string') tasks.push({ id: entry['id'], ...progress });
  }
  return { event: 'progress', at: v['at'], tasks };
}

/** `40% (4/10) copying files`: a progress as the Monitor logs it. */
export function describeProgress(p: TaskProgress): string {
  const counts = p.done !== undefined && p.total !== undefined ? ` (${p.done}/${p.total})` : '';
  return `${p.pct}%${counts}${p.msg ? ` ${p.msg}` : ''}`;
}
