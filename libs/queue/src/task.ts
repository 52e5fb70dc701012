import { InvalidTaskError } from './errors/invalid-task-error';

/** JSON value a task carries to its handler. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A task as stored in the queue. */
export interface Task<P extends JsonValue = JsonValue> {
  /** Unique id within the queue (caller-given or generated). */
  readonly id: string;
  /** Selects the handler that runs it. */
  readonly type: string;
  /** Handler input. */
  readonly payload: P;
  /** Client time of enqueue, ms since the epoch. */
  readonly enqueuedAt: number;
}

/** What a producer passes to enqueue. */
export interface TaskInput<P extends JsonValue = JsonValue> {
  /** Handler selector; 1-200 characters. */
  readonly type: string;
  /** Handler input; must be JSON-serialisable. Default `null`. */
  readonly payload?: P;
  /**
   * Task id. Default: generated. Enqueueing an id that already has a recorded
   * status is a no-op (the existing task is kept).
   */
  readonly id?: string;
}

const ID = /^[^\s]{1,256}$/;

export function validateInput(input: TaskInput): void {
  if (typeof input.type !== 'string' || input.type.length < 1 || input.type.length > 200) {
    throw new InvalidTaskError(`task type must be a string of 1-200 characters, got ${JSON.stringify(input.type)}`);
  }
  if (input.id !== undefined && (typeof input.id !== 'string' || !ID.test(input.id))) {
    throw new InvalidTaskError(`task id must be 1-256 non-space characters, got ${JSON.stringify(input.id)}`);
  }
}

/** Encodes a task for the tasks hash. Throws InvalidTaskError for a payload JSON cannot represent. */
export function encodeTask(task: Task): string {
  let text: string | undefined;
  try {
    text = JSON.stringify({ type: task.type, payload: task.payload, enqueuedAt: task.enqueuedAt });
  } catch (cause) {
    throw new InvalidTaskError(`task ${task.id}: payload is not JSON-serialisable`, { cause });
  }
  return text;
}

/** Decodes a stored task. Throws InvalidTaskError when the stored text is not a valid task. */
export function decodeTask(id: string, raw: string): Task {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw new InvalidTaskError(`task ${id}: payload is not valid JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTaskError(`task ${id}: stored task is not a JSON object`);
  }
  const v = value as Record<string, unknown>;
  if (typeof v['type'] !== 'string' || v['type'].length === 0) {
    throw new InvalidTaskError(`task ${id}: stored task has no type`);
  }
  return {
    id,
    type: v['type'],
    payload: (v['payload'] ?? null) as JsonValue,
    enqueuedAt: typeof v['enqueuedAt'] === 'number' ? v['enqueuedAt'] : 0,
  };
}
