import { decodeStatusRecord, queuedRecordOf, type StatusRecord, type TaskStatus } from '@taskq/recorder';
import { InvalidListQueryError } from './errors/invalid-list-query-error';
import type { QueueKeys } from './keys';
import { SCRIPTS } from './lua-script';
import type { RedisClient } from './redis-handle';
import { scriptKeys } from './script-keys';
import { decodeTask, type Task } from './task';

/** The statuses Queue.listTasks lists, each read from the structure that holds it. */
export const LISTABLE_STATUSES = ['Queued', 'Delayed', 'Retrying', 'InProgress', 'Dead', 'Failed', 'Done', 'Cancelled'] as const satisfies readonly TaskStatus[];
export type ListableStatus = (typeof LISTABLE_STATUSES)[number];

/** Tasks per page unless a limit is given. */
export const DEFAULT_LIST_LIMIT = 50;
/** The most tasks one page may have. */
export const MAX_LIST_LIMIT = 500;
/** Longest cursor accepted (the ones listTasks makes are far shorter: an id is at most 256 characters). */
const MAX_CURSOR_LENGTH = 2048;

/** A listed task: its stored body (absent if it was forgotten while its record stayed) and its status record. */
export interface TaskRow {
  readonly id: string;
  readonly task?: Task;
  /** Its status record: the status listed (a task still where enqueue put it: the Queued record its body stands for). */
  readonly record: StatusRecord;
}

/** One page of Queue.listTasks. */
export interface TaskPage {
  readonly tasks: TaskRow[];
  /**
   * Where the next page begins: give it back as `cursor`. Absent when the
   * structure ended with this page. A page may hold fewer tasks than the
   * limit and still have a next one (a page reads a bounded number of
   * elements, and skips those of another status).
   */
  readonly nextCursor?: string;
}

export interface ListOptions {
  /** Most tasks in the page: 1 to MAX_LIST_LIMIT (500), default 50. */
  readonly limit?: number;
  /** The `nextCursor` of the page before; absent (or '') for the first page. */
  readonly cursor?: string;
}

/** What a cursor holds, by the kind of structure it pages through. */
type Cursor =
  /** A list, newest first (Done, Cancelled, Dead, Failed): the last element read, and its record's seq. */
  | { readonly v: 1; readonly s: ListableStatus; readonly id: string; readonly seq: number }
  /** A sorted set by due time (Delayed, Retrying): the last element read, and its due time. */
  | { readonly v: 1; readonly s: ListableStatus; readonly id: string; readonly at: number }
  /** A line that moves (Queued, InProgress): an offset. */
  | { readonly v: 1; readonly s: ListableStatus; readonly o: number };

function kindOf(status: ListableStatus): 'list' | 'set' | 'offset' {
  switch (status) {
    case 'Done':
    case 'Cancelled':
    case 'Dead':
    case 'Failed':
      return 'list';
    case 'Delayed':
    case 'Retrying':
      return 'set';
    default:
      return 'offset';
  }
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** A cursor given back, checked: made by listTasks, for this status. Throws InvalidListQueryError. */
function decodeCursor(text: string, status: ListableStatus): Cursor {
  const bad = (why: string): InvalidListQueryError => new InvalidListQueryError('cursor', `cursor is not valid: ${why} (give back the nextCursor of the page before, or none for the first page)`);
  if (text.length > MAX_CURSOR_LENGTH) throw bad(`longer than ${MAX_CURSOR_LENGTH} characters`);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw bad('not base64url');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor of taskq');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a cursor of taskq');
  const c = value as Record<string, unknown>;
  if (c['v'] !== 1 || typeof c['s'] !== 'string') throw bad('not a cursor of taskq');
  if (c['s'] !== status) throw bad(`it pages through the ${String(c['s'])} tasks, not the ${status} ones`);
  const id = c['id'];
  const okId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024;
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  switch (kindOf(status)) {
    case 'list':
      if (!okId(id) || !whole(c['seq'])) throw bad('not a cursor of taskq');
      return { v: 1, s: status, id: id, seq: c['seq'] };
    case 'set':
      if (!okId(id) || !whole(c['at'])) throw bad('not a cursor of taskq');
      return { v: 1, s: status, id: id, at: c['at'] };
    case 'offset':
      if (!whole(c['o'])) throw bad('not a cursor of taskq');
      return { v: 1, s: status, o: c['o'] };
  }
}

function checkStatus(status: unknown): asserts status is ListableStatus {
  if (!(LISTABLE_STATUSES as readonly unknown[]).includes(status)) {
    throw new InvalidListQueryError('status', `status must be one of ${LISTABLE_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  }
}

function checkLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidListQueryError('limit', `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(limit)}`);
  }
  return limit;
}

/** Elements one page reads at most: a page of few matches (many of another status among them) ends early, with a cursor. */
function readBudget(limit: number): number {
  return Math.max(1000, 4 * limit);
}

/** A listed task from its id, stored record ('' or null: none) and body; undefined if the record does not decode. */
function rowOf(id: string, rawRecord: string | null, rawBody: string | null): TaskRow | undefined {
  let record: StatusRecord | undefined;
  try {
    record = rawRecord ? decodeStatusRecord(rawRecord) : rawBody ? queuedRecordOf(id, rawBody) : undefined;
  } catch {
    record = undefined; // a record that does not decode is not shown under any status
  }
  if (record === undefined) return undefined;
  let task: Task | undefined;
  try {
    task = rawBody ? decodeTask(id, rawBody) : undefined;
  } catch {
    task = undefined; // a malformed body is reported by the worker that fetches it
  }
  return task === undefined ? { id, record } : { id, task, record };
}

/** A script reply's element as text ('' for anything but a string or number). */
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/**
 * One page of the tasks of one status (see Queue.listTasks). Throws
 * InvalidListQueryError for a status not listed, a limit out of range or a
 * cursor that is not one this function made for that status.
 */
export async function readTaskPage(redis: RedisClient, keys: QueueKeys, status: ListableStatus, options: ListOptions = {}): Promise<TaskPage> {
  checkStatus(status);
  const limit = checkLimit(options.limit);
  const cursor = options.cursor === undefined || options.cursor === '' ? undefined : decodeCursor(options.cursor, status);
  if (status === 'InProgress') return inProgressPage(redis, keys, limit, cursor && 'o' in cursor ? cursor.o : 0);
  let from: [string, string] = ['', ''];
  if (cursor && 'seq' in cursor) from = [cursor.id, String(cursor.seq)];
  else if (cursor && 'at' in cursor) from = [cursor.id, String(cursor.at)];
  else if (cursor && 'o' in cursor) from = [String(cursor.o), ''];
  const reply = ((await SCRIPTS.listPage.run(redis, scriptKeys('listPage', keys), [status, limit, readBudget(limit), ...from])) as unknown[]).map(text);
  const [more, last, key] = reply;
  const tasks: TaskRow[] = [];
  for (let i = 3; i + 2 < reply.length; i += 3) {
    const row = rowOf(reply[i] ?? '', reply[i + 1] ?? '', reply[i + 2] ?? '');
    if (row) tasks.push(row);
  }
  if (Number(more) !== 1) return { tasks };
  const kind = kindOf(status);
  const next: Cursor =
    kind === 'offset'
      ? { v: 1, s: status, o: Number(last) }
      : kind === 'list'
        ? { v: 1, s: status, id: last ?? '', seq: Number(key) || 0 }
        : { v: 1, s: status, id: last ?? '', at: Number(key) || 0 };
  return { tasks, nextCursor: encodeCursor(next) };
}

/**
 * InProgress: the processing lists of the registered consumers, by consumer
 * id, each newest first; an offset into that line (it moves as tasks start
 * and end).
 */
async function inProgressPage(redis: RedisClient, keys: QueueKeys, limit: number, offset: number): Promise<TaskPage> {
  const consumers = (await redis.zrange(keys.consumers, 0, -1)).sort();
  if (consumers.length === 0) return { tasks: [] };
  const lengths = await Promise.all(consumers.map((c) => redis.llen(keys.processing(c))));
  const total = lengths.reduce((a, b) => a + b, 0);
  const ids: string[] = [];
  // pos: the line's position read up to (a list that shrank meanwhile gives fewer ids, not a shift)
  let pos = offset;
  let base = 0;
  for (const [i, consumer] of consumers.entries()) {
    const len = lengths[i] ?? 0;
    const from = pos - base;
    const want = limit - ids.length;
    if (want > 0 && from < len) {
      ids.push(...(await redis.lrange(keys.processing(consumer), from, from + want - 1)));
      pos += Math.min(want, len - from);
    }
    base += len;
  }
  const [records, bodies] = ids.length === 0 ? [[], []] : await Promise.all([redis.hmget(keys.status, ...ids), redis.hmget(keys.tasks, ...ids)]);
  const tasks: TaskRow[] = [];
  ids.forEach((id, i) => {
    const row = rowOf(id, records[i] ?? null, bodies[i] ?? null);
    if (row?.record.status === 'InProgress') tasks.push(row);
  });
  return pos < total && pos > offset ? { tasks, nextCursor: encodeCursor({ v: 1, s: 'InProgress', o: pos }) } : { tasks };
}
