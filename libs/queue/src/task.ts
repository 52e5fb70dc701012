import { InvalidTaskError } from './errors/invalid-task-error';
import { DEFAULT_BACKOFF, validateBackoff, type Backoff } from './backoff';
import { idProblem, ID_RULE } from './ids';
import { payloadProblem } from './payload';

/** JSON value a task carries to its handler. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * The task types of a queue and their payloads, for typed queues and handlers:
 * `{ 'send-email': { to: string }; resize: { url: string; width: number } }`.
 * Payloads travel as JSON. Untyped queues use DefaultTasks (any type, any JSON).
 */
export type DefaultTasks = Record<string, JsonValue>;

/**
 * What a task map may be: any object type whose keys are task types (an
 * interface works too). `any` here only admits interfaces (which have no index
 * signature); each type's payload is what the map says.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskTypes = { [type: string]: any };

/** The task type names of a task map. */
export type TypeOf<T> = keyof T & string;

/**
 * The payload `enqueue(type, payload)` takes for `K`: that type's payload,
 * or, when `K` is a union of types, one that fits every one of them (so a
 * payload of one type cannot be sent under another).
 */
export type PayloadOf<T, K extends TypeOf<T>> = { [P in K]: (payload: T[P]) => void }[K] extends (payload: infer I) => void ? I : never;

/** `payload` of an input: required, unless the payload type admits null (then it defaults to null). */
export type PayloadField<P> = null extends P ? { readonly payload?: P } : { readonly payload: P };

/** Everything an input can say besides its type and payload (the third argument of `enqueue(type, payload, options)`). */
export type EnqueueOptions = Omit<TaskInput, 'type' | 'payload'>;

/** An input of a typed queue: one of its types, with that type's payload. */
export type TaskInputOf<T, K extends TypeOf<T> = TypeOf<T>> = {
  [P in K]: EnqueueOptions & { readonly type: P } & PayloadField<T[P]>;
}[K];

/** A task as stored in the queue. */
export interface Task<P = JsonValue> {
  /** Unique id within the queue (caller-given or generated). */
  readonly id: string;
  /** Selects the handler that runs it. */
  readonly type: string;
  /** Handler input. */
  readonly payload: P;
  /** Redis server time of the enqueue, ms since the epoch. */
  readonly enqueuedAt: number;
  /** Executions allowed before the task is Dead. */
  readonly maxAttempts: number;
  /** Wait between a failed attempt and the next. */
  readonly backoff: Backoff;
  /** Per-attempt time limit, ms; undefined: none. */
  readonly timeoutMs?: number;
  /** 0-9: a ready task of a higher priority runs first; FIFO within a priority. */
  readonly priority: number;
  /** Set when the task is a step of a flow (see Flows): which, and what the steps it waited for left it. */
  readonly flow?: TaskFlow;
}

/** What a flow step's task knows of its flow. */
export interface TaskFlow {
  /** The flow's id. */
  readonly id: string;
  /** This step's name in the flow. */
  readonly step: string;
  /**
   * The results of the steps this one waited for that ended Done, by step
   * name (null for a handler that returned nothing): in a chain, the
   * previous step's; in a chord's callback, every member's.
   */
  readonly inputs: Readonly<Record<string, JsonValue>>;
  /** Under the `continue` policy, why each step it waited for that did not end Done did not (its last error, or its status). */
  readonly errors: Readonly<Record<string, string>>;
}

/** What a producer passes to enqueue (untyped; typed queues take TaskInputOf). */
export interface TaskInput<P = JsonValue> {
  /** Handler selector; 1-200 characters. */
  readonly type: string;
  /**
   * Handler input: plain JSON data (null, booleans, finite numbers, strings,
   * arrays, plain objects), so that the handler gets what was sent. Anything
   * JSON would change (NaN, Infinity, bigint, functions, symbols, undefined
   * in arrays, Date, Map, Set, class instances, cycles) is refused with an
   * InvalidTaskError naming its path. Properties whose value is undefined
   * are left out. Default `null`.
   */
  readonly payload?: P;
  /**
   * Task id: 1-256 characters of well-formed Unicode (no lone UTF-16
   * surrogate) without white space, quotes, backslashes or control
   * characters (Unicode Cc: U+0000-U+001F, U+007F-U+009F); not all digits
   * (those are the generated ids).
   * Default: generated, the queue's next id number ("1", "2", ...).
   * Enqueueing an id that already exists is a no-op that returns the
   * existing task.
   */
  readonly id?: string;
  /** Executions allowed (first run included) before the task is Dead. Whole number >= 1. Default 3. */
  readonly maxAttempts?: number;
  /** Wait between attempts. Default exponential from 1 s, with jitter, capped at 1 h. */
  readonly backoff?: Backoff;
  /** Per-attempt time limit, ms (> 0): the handler's signal fires and the attempt fails. Default: none. */
  readonly timeoutMs?: number;
  /**
   * 0-9 (whole number): among ready tasks, a higher priority is handed out
   * first, FIFO within a priority (a task taken back, e.g. released by a
   * stopping worker, goes before the others of its priority). Default 5.
   * Lower priorities wait while higher ones are ready: a steady stream of
   * high-priority tasks starves the low ones (strict order, as documented).
   */
  readonly priority?: number;
  /** Run no earlier than this many ms from now (>= 0). Status Delayed until due. Default 0. */
  readonly delayMs?: number;
  /** Run no earlier than this time (Date or ms since the epoch). Exclusive with delayMs. */
  readonly runAt?: Date | number;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
/** The priority of a task that gives none: the middle of 0-9. */
export const DEFAULT_PRIORITY = 5;

const GENERATED_ID = /^\d+$/;
/** Stored options of a task that has none (all defaults). */
const NO_OPTIONS: Record<string, unknown> = Object.freeze({});

/** A value as a message shows it (JSON turns NaN and Infinity into null). */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/**
 * Validates an input (throws InvalidTaskError) and returns its due time as
 * enqueue.lua takes it: '0' (now), '+<ms>' (delayMs, measured on the Redis
 * server's clock) or an absolute time in ms (runAt).
 */
export function validateInput(input: TaskInput<unknown>): string {
  if (typeof input !== 'object' || input === null) throw new InvalidTaskError('a task must be an object');
  if (typeof input.type !== 'string' || input.type.length < 1 || input.type.length > 200) {
    throw new InvalidTaskError(`task type must be a string of 1-200 characters, got ${JSON.stringify(input.type)}`);
  }
  if (input.id !== undefined) {
    const problem = typeof input.id === 'string' ? idProblem(input.id) : `a ${typeof input.id}`;
    if (problem !== undefined) throw new InvalidTaskError(`${ID_RULE}, got ${JSON.stringify(input.id)}: ${problem}`);
  }
  if (input.id !== undefined && GENERATED_ID.test(input.id)) {
    throw new InvalidTaskError(`task id ${JSON.stringify(input.id)} is all digits: such ids are reserved for generated ids; add a prefix`);
  }
  if (input.maxAttempts !== undefined && (!Number.isInteger(input.maxAttempts) || input.maxAttempts < 1)) {
    throw new InvalidTaskError(`maxAttempts must be a whole number >= 1, got ${show(input.maxAttempts)}`);
  }
  if (input.timeoutMs !== undefined && !(typeof input.timeoutMs === 'number' && Number.isFinite(input.timeoutMs) && input.timeoutMs > 0)) {
    throw new InvalidTaskError(`timeoutMs must be a number > 0, got ${show(input.timeoutMs)}`);
  }
  if (input.backoff !== undefined) validateBackoff(input.backoff);
  if (input.priority !== undefined && !(Number.isInteger(input.priority) && input.priority >= 0 && input.priority <= 9)) {
    throw new InvalidTaskError(`priority must be a whole number from 0 to 9, got ${show(input.priority)}`);
  }
  if (input.delayMs !== undefined && input.runAt !== undefined) {
    throw new InvalidTaskError('give delayMs or runAt, not both');
  }
  if (input.delayMs !== undefined) {
    if (!(typeof input.delayMs === 'number' && Number.isFinite(input.delayMs) && input.delayMs >= 0)) {
      throw new InvalidTaskError(`delayMs must be a number >= 0, got ${show(input.delayMs)}`);
    }
    return input.delayMs > 0 ? `+${Math.round(input.delayMs)}` : '0';
  }
  if (input.runAt !== undefined) {
    const at = input.runAt instanceof Date ? input.runAt.getTime() : input.runAt;
    if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) {
      throw new InvalidTaskError(`runAt must be a Date or a time in ms, got ${show(input.runAt)}`);
    }
    return String(Math.round(at));
  }
  return '0';
}

/** Builds the stored task from a validated input. */
export function taskFromInput<P>(input: TaskInput<P>, id: string, now: number): Task<P> {
  return {
    id,
    type: input.type,
    payload: (input.payload ?? null) as P,
    enqueuedAt: now,
    maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    backoff: input.backoff ?? DEFAULT_BACKOFF,
    ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    priority: input.priority ?? DEFAULT_PRIORITY,
  };
}

/**
 * Encodes a validated input for enqueue.lua: the tail of the stored JSON
 * array `[enqueuedAt, type, payload, options?]` (the script puts the Redis
 * time in front). Options are left out when they all have their default
 * value (most tasks), since every byte is paid per queued task.
 * Throws InvalidTaskError, naming the path, for a payload that would not
 * come back from JSON unchanged (see payloadProblem).
 */
export function encodeTaskTail(input: TaskInput<unknown>, label: string, flow?: TaskFlow): string {
  const options: Record<string, unknown> = {};
  let hasOptions = false;
  if (flow !== undefined) {
    options['flow'] = flow;
    hasOptions = true;
  }
  if (input.maxAttempts !== undefined && input.maxAttempts !== DEFAULT_MAX_ATTEMPTS) {
    options['maxAttempts'] = input.maxAttempts;
    hasOptions = true;
  }
  if (input.backoff !== undefined && input.backoff !== DEFAULT_BACKOFF) {
    options['backoff'] = input.backoff;
    hasOptions = true;
  }
  if (input.timeoutMs !== undefined) {
    options['timeoutMs'] = input.timeoutMs;
    hasOptions = true;
  }
  if (input.priority !== undefined && input.priority !== DEFAULT_PRIORITY) {
    options['priority'] = input.priority;
    hasOptions = true;
  }
  const payload = input.payload ?? null;
  const problem = payloadProblem(payload);
  if (problem !== undefined) throw new InvalidTaskError(`task ${label}: ${problem}`);
  return JSON.stringify(hasOptions ? [input.type, payload, options] : [input.type, payload]).slice(1);
}

/**
 * Decodes a stored task: the array written by enqueue.lua, or the object an
 * earlier version stored (`{type, payload, enqueuedAt, ...options}`).
 * Throws InvalidTaskError when the stored text is not a valid task.
 */
export function decodeTask(id: string, raw: string): Task {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw new InvalidTaskError(`task ${id}: payload is not valid JSON`, { cause });
  }
  let enqueuedAt: unknown;
  let type: unknown;
  let payload: unknown;
  let options: Record<string, unknown>;
  if (Array.isArray(value)) {
    [enqueuedAt, type, payload] = value as unknown[];
    const stored: unknown = value[3];
    if (stored !== undefined && (typeof stored !== 'object' || stored === null || Array.isArray(stored))) {
      throw new InvalidTaskError(`task ${id}: stored task options are not an object`);
    }
    options = (stored as Record<string, unknown> | undefined) ?? NO_OPTIONS;
  } else if (typeof value === 'object' && value !== null) {
    options = value as Record<string, unknown>;
    ({ enqueuedAt, type, payload } = options);
  } else {
    throw new InvalidTaskError(`task ${id}: stored task is not a JSON array or object`);
  }
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidTaskError(`task ${id}: stored task has no type`);
  }
  const at = typeof enqueuedAt === 'number' ? enqueuedAt : 0;
  const data = (payload ?? null) as JsonValue;
  if (options === NO_OPTIONS) return { id, type, payload: data, enqueuedAt: at, maxAttempts: DEFAULT_MAX_ATTEMPTS, backoff: DEFAULT_BACKOFF, priority: DEFAULT_PRIORITY };
  const maxAttempts = Number.isInteger(options['maxAttempts']) && (options['maxAttempts'] as number) >= 1 ? (options['maxAttempts'] as number) : DEFAULT_MAX_ATTEMPTS;
  let backoff: Backoff = DEFAULT_BACKOFF;
  if (options['backoff'] !== undefined) {
    validateBackoff(options['backoff']);
    backoff = options['backoff'];
  }
  const timeoutMs = typeof options['timeoutMs'] === 'number' && options['timeoutMs'] > 0 ? options['timeoutMs'] : undefined;
  const p = options['priority'];
  const priority = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 9 ? p : DEFAULT_PRIORITY;
  const flow = decodeTaskFlow(options['flow']);
  const task: Task = timeoutMs === undefined
    ? { id, type, payload: data, enqueuedAt: at, maxAttempts, backoff, priority }
    : { id, type, payload: data, enqueuedAt: at, maxAttempts, backoff, timeoutMs, priority };
  return flow === undefined ? task : { ...task, flow };
}

/** A stored task's flow reference, or undefined when it has none (or not a well-formed one). */
function decodeTaskFlow(value: unknown): TaskFlow | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Record<string, unknown>;
  if (typeof f['id'] !== 'string' || typeof f['step'] !== 'string') return undefined;
  const record = (v: unknown): Record<string, never> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, never>) : {});
  return { id: f['id'], step: f['step'], inputs: record(f['inputs']), errors: record(f['errors']) };
}
