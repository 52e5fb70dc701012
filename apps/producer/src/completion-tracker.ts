import { FINAL_STATUSES, isFinalStatus, type TaskStatus } from '@taskq/recorder';
import { taskId } from './sleep-tasks';

/**
 * Which tasks of a run (`<idPrefix>1` .. `<idPrefix><count>`) have a final
 * status, in one bit each, and how many ended in each final status: a run
 * of ten million tasks needs 1.25 MB here, not a record per task.
 */
export class CompletionTracker {
  private readonly finals: Uint8Array;
  private readonly byStatus = new Map<TaskStatus, number>(FINAL_STATUSES.map((s) => [s, 0]));
  /** Tasks that ended without this run seeing how: their record was gone (retention forgot it). */
  private forgottenCount = 0;
  private left: number;
  private readonly changed = new Set<() => void>();

  constructor(
    readonly idPrefix: string,
    readonly count: number,
  ) {
    this.finals = new Uint8Array(Math.ceil(count / 8));
    this.left = count;
  }

  /** Tasks without a final status yet. */
  get pending(): number {
    return this.left;
  }

  /** Tasks counted by markForgotten. */
  get forgotten(): number {
    return this.forgottenCount;
  }

  /** Count per final status (every final status present, 0 included), plus `Forgotten` when there are any. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(this.byStatus);
    if (this.forgottenCount > 0) counts['Forgotten'] = this.forgottenCount;
    return counts;
  }

  /**
   * Notes `status` for `id` if it is final, the first final status of a task
   * of this run (a final status never changes; another run's ids are ignored).
   * Returns whether it counted.
   */
  mark(id: string, status: TaskStatus): boolean {
    if (!isFinalStatus(status) || !this.settle(id)) return false;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    return true;
  }

  /**
   * Notes a task of the run whose status record is gone: it ended (retention
   * forgets only finished tasks) while this run was not looking, e.g. after
   * the Monitor's connection dropped messages, so how it ended is unknown.
   */
  markForgotten(id: string): boolean {
    if (!this.settle(id)) return false;
    this.forgottenCount += 1;
    return true;
  }

  /** Sets the task's bit; false when it is no task of the run or was settled already. */
  private settle(id: string): boolean {
    if (!id.startsWith(this.idPrefix)) return false;
    const n = this.indexOf(id);
    if (n === undefined) return false;
    const byte = n >> 3;
    const bit = 1 << (n & 7);
    if ((this.finals[byte] & bit) !== 0) return false;
    this.finals[byte] |= bit;
    this.left -= 1;
    for (const notify of this.changed) notify();
    return true;
  }

  /** Ids of the tasks still pending, in order, `size` at a time (made as they are asked for). */
  *pendingIds(size: number): Generator<string[]> {
    let chunk: string[] = [];
    for (let n = 0; n < this.count; n++) {
      if ((this.finals[n >> 3] & (1 << (n & 7))) !== 0) continue;
      chunk.push(taskId(this.idPrefix, n + 1));
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /** Calls `listener` after every task that turns final; returns its remover. */
  onChange(listener: () => void): () => void {
    this.changed.add(listener);
    return () => this.changed.delete(listener);
  }

  /** 0-based index of a task id of this run, or undefined for any other id. */
  private indexOf(id: string): number | undefined {
    const digits = id.slice(this.idPrefix.length);
    if (!/^[1-9]\d{0,15}$/.test(digits)) return undefined;
    const n = Number(digits);
    return n <= this.count ? n - 1 : undefined;
  }
}
