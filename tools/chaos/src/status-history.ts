import { isFinalStatus, type StatusRecord, type TaskStatus } from '@taskq/recorder';

/**
 * Every status record the monitor delivered, per task, in delivery order.
 * The monitor applies a record only when its `seq` is newer than the one it
 * knows, so a status delivered after a final one is a change recorded in
 * Redis after the task had finished: a flip.
 */
export class StatusHistory {
  private readonly byTask = new Map<string, StatusRecord[]>();
  private finals = 0;

  /** `counted`: the tasks `finalCount` counts (default all). */
  constructor(private readonly counted: (taskId: string) => boolean = () => true) {}

  /** Adds one delivered record (the monitor's `onStatus('*', '*', …)` callback). */
  record(record: StatusRecord): void {
    let records = this.byTask.get(record.id);
    if (records === undefined) {
      records = [];
      this.byTask.set(record.id, records);
    }
    if (isFinalStatus(record.status) && this.counted(record.id) && !records.some((r) => isFinalStatus(r.status))) this.finals++;
    records.push(record);
  }

  /** Tasks seen with a final status at least once (of those counted). */
  get finalCount(): number {
    return this.finals;
  }

  /** The records delivered for `taskId`, oldest first (empty if none). */
  of(taskId: string): readonly StatusRecord[] {
    return this.byTask.get(taskId) ?? [];
  }

  /** Every task's delivered records, oldest first. */
  records(): ReadonlyMap<string, readonly StatusRecord[]> {
    return this.byTask;
  }

  /** Every task's delivered statuses, oldest first. */
  statuses(): Map<string, TaskStatus[]> {
    const out = new Map<string, TaskStatus[]>();
    for (const [id, records] of this.byTask) out.set(id, records.map((r) => r.status));
    return out;
  }
}
