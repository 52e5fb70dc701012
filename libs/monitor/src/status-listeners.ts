import type { StatusRecord, TaskStatus } from '@taskq/recorder';

/** Called with each applied status record that matches a listener's filter. */
export type StatusCallback = (record: StatusRecord) => void;

/** Which statuses a listener wants: one, several, or `'*'` for all. */
export type StatusFilter = TaskStatus | readonly TaskStatus[] | '*';

/** Matches every task id (as `onStatus`'s first argument) or every status. */
export const ANY = '*';

interface Listener {
  readonly statuses: ReadonlySet<TaskStatus> | undefined;
  readonly callback: StatusCallback;
  active: boolean;
}

/**
 * The `onStatus` registry, indexed by task id so that an event costs a map
 * lookup, not a scan of every listener. A callback that throws is reported
 * through `onError` and does not keep the others from running.
 */
export class StatusListeners {
  private readonly byTask = new Map<string, Set<Listener>>();

  constructor(private readonly onError: (err: unknown, record: StatusRecord) => void) {}

  /** Registers `callback`; returns a function that removes it (idempotent). */
  add(taskId: string, statuses: StatusFilter, callback: StatusCallback): () => void {
    const listener: Listener = {
      statuses: statuses === ANY ? undefined : new Set(typeof statuses === 'string' ? [statuses] : statuses),
      callback,
      active: true,
    };
    let set = this.byTask.get(taskId);
    if (set === undefined) {
      set = new Set();
      this.byTask.set(taskId, set);
    }
    set.add(listener);
    const owner = set;
    return () => {
      // Marked inactive too, so an emit already under way skips it.
      listener.active = false;
      owner.delete(listener);
      if (owner.size === 0 && this.byTask.get(taskId) === owner) this.byTask.delete(taskId);
    };
  }

  /** Calls every active listener of `record.id` and of `'*'` whose filter matches. */
  emit(record: StatusRecord): void {
    const forTask = this.byTask.get(record.id);
    const forAll = record.id === ANY ? undefined : this.byTask.get(ANY);
    if (forTask === undefined && forAll === undefined) return;
    // Snapshot: callbacks may add or remove listeners while we iterate.
    const targets = [...(forTask ?? []), ...(forAll ?? [])];
    for (const listener of targets) {
      if (!listener.active) continue;
      if (listener.statuses !== undefined && !listener.statuses.has(record.status)) continue;
      try {
        listener.callback(record);
      } catch (err) {
        this.onError(err, record);
      }
    }
  }

  /** Number of registered listeners (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const set of this.byTask.values()) n += set.size;
    return n;
  }
}
