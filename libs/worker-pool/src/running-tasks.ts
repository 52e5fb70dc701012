import type { RunningTask } from './task-runner';

/**
 * The pool's tasks in progress, by id, listed in the order they were added
 * (as a `Map` would list them).
 *
 * Plain dictionary objects, not a `Map`: a busy pool adds and removes an
 * entry per task, tens of thousands a second, and V8's `Map` then keeps
 * rebuilding its hash table, each obsolete table pointing to its successor
 * (for live iterators). An obsolete table that has reached the old
 * generation keeps its successors, and the tasks in them, alive through
 * young-generation collections until the next full one: measured on a pool
 * without Redis, about 470 bytes of every task were promoted to the old
 * generation this way, against about 40 with dictionaries, and the pool ran
 * at 1.7 rather than 2.7 µs of CPU per task.
 */
export class RunningTasks {
  private byId: Record<string, RunningTask> = Object.create(null) as Record<string, RunningTask>;
  /** When each id was added (a counter): a dictionary lists numeric-looking keys first, so order is kept here. */
  private addedAt: Record<string, number> = Object.create(null) as Record<string, number>;
  private added = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: string): RunningTask | undefined {
    return this.byId[id];
  }

  /** Tracks `run` under its id; a later run of the same id replaces an earlier one (keeping its place in the order). */
  set(id: string, run: RunningTask): void {
    if (this.byId[id] === undefined) {
      this.count++;
      this.addedAt[id] = ++this.added;
    }
    this.byId[id] = run;
  }

  /** Forgets the task if `run` is still the one tracked under its id. */
  deleteIf(id: string, run: RunningTask): void {
    const tracked = this.byId[id];
    if (tracked === undefined || tracked !== run) return;
    delete this.byId[id];
    delete this.addedAt[id];
    this.count--;
    // emptied dictionaries are replaced, so that they cannot grow with deleted entries forever
    if (this.count === 0) {
      this.byId = Object.create(null) as Record<string, RunningTask>;
      this.addedAt = Object.create(null) as Record<string, number>;
    }
  }

  /** Ids in the order they were added. */
  ids(): string[] {
    const order = this.addedAt;
    return Object.keys(this.byId).sort((a, b) => (order[a] as number) - (order[b] as number));
  }

  /** Runs in the order their ids were added. */
  values(): RunningTask[] {
    return this.ids().map((id) => this.byId[id] as RunningTask);
  }
}
