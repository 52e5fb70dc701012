import type { Task } from './task';
import { decodeTask } from './task';
import { InvalidTaskError } from './errors/invalid-task-error';

/** A task fetched into a consumer's processing list. */
export interface FetchedTask {
  readonly id: string;
  /** 1 on the first fetch, incremented by every later fetch of the same task. */
  readonly attempt: number;
  /** The worker name it was fetched for (recorded in its InProgress status). */
  readonly worker: string;
  /** The decoded task, or the reason it could not be decoded. */
  readonly task: Task | undefined;
  readonly invalid: InvalidTaskError | undefined;
}

/** Decodes the flat reply of fetch.lua: id, encoded task (or null), attempt, ... */
export function decodeFetchReply(reply: unknown[], workers: readonly string[]): FetchedTask[] {
  const out: FetchedTask[] = [];
  for (let i = 0, n = 0; i + 2 < reply.length; i += 3, n++) {
    const id = String(reply[i]);
    const raw = reply[i + 1];
    const attempt = Number(reply[i + 2]);
    const worker = workers[n] ?? workers[workers.length - 1] ?? '';
    if (typeof raw !== 'string' || raw === '') {
      out.push({ id, attempt, worker, task: undefined, invalid: new InvalidTaskError(`task ${id}: no task is stored under this id`) });
      continue;
    }
    try {
      out.push({ id, attempt, worker, task: decodeTask(id, raw), invalid: undefined });
    } catch (err) {
      const invalid = err instanceof InvalidTaskError ? err : new InvalidTaskError(`task ${id}: ${String(err)}`, { cause: err });
      out.push({ id, attempt, worker, task: undefined, invalid });
    }
  }
  return out;
}
