import type { RunningTask } from './task-runner';

/**
 * The pool's runs in progress, from dispatch until their ack (or failure)
 * has been recorded, in slots of an array: add() returns the slot, remove()
 * frees it. A busy pool adds and removes one run per task, tens of
 * thousands a second; a slot costs no hashing and no allocation, where a
 * dictionary keyed by task id cost about 0.8 µs per task and a `Map` left
 * its obsolete hash tables (and the tasks in them) to the old generation.
 * Lookups by id (cancel requests, reconcile, stop) are rare and scan the
 * slots.
 *
 * A task may run twice at once in one pool: a consumer presumed dead may
 * fetch it again while the first run goes on. Both runs are tracked, each
 * in its own slot.
 */
export class RunningTasks {
  private readonly runs: (RunningTask | undefined)[] = [];
  /** When each slot's run was added (a counter), for listing in that order. */
  private readonly addedAt: number[] = [];
  private readonly free: number[] = [];
  private added = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Tracks a run; returns its slot, for remove(). */
  add(run: RunningTask): number {
    const slot = this.free.length > 0 ? (this.free.pop() as number) : this.runs.length;
    this.runs[slot] = run;
    this.addedAt[slot] = ++this.added;
    this.count++;
    return slot;
  }

  /** Forgets the run in `slot`, if `run` is the one there (a second call is a no-op). */
  remove(slot: number, run: RunningTask): void {
    if (this.runs[slot] !== run) return;
    this.runs[slot] = undefined;
    this.free.push(slot);
    this.count--;
  }

  /** The runs of a task id, oldest first (usually one; none if it is not running here). */
  find(id: string): RunningTask[] {
    return this.values().filter((run) => run.id === id);
  }

  /** Ids of the runs, each once, in the order their first run was added. */
  ids(): string[] {
    return [...new Set(this.values().map((run) => run.id))];
  }

  /** The runs in the order they were added. */
  values(): RunningTask[] {
    const slots: number[] = [];
    this.runs.forEach((run, slot) => {
      if (run !== undefined) slots.push(slot);
    });
    return slots.sort((a, b) => this.addedAt[a] - this.addedAt[b]).map((slot) => this.runs[slot] as RunningTask);
  }
}
