import type { StatusRecord } from '@taskq/recorder';

/**
 * How long tasks stayed InProgress before their next status, by the
 * records' Redis server times. A normal attempt holds a task for its handler
 * time (at most --max-ms); a task held by a killed worker waits for the
 * janitor (stale limit plus a pass); anything longer is a task nobody runs.
 * Queue wait is left out: every task is enqueued at the start, so it only
 * measures the backlog.
 */
export interface HoldTimeReport {
  /** Attempts that held their task longer than the limit given: tasks nobody ran for that long. */
  readonly over: number;
  readonly limitMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The task with the longest hold: each status with its offset from its first record, worker and reason. */
  readonly longest: string;
}

const secs = (ms: number): string => (ms / 1000).toFixed(1);

function trail(records: readonly StatusRecord[]): string {
  const start = records[0]?.at ?? 0;
  return records
    .map((r) => {
      const who = [r.worker, r.reason?.slice(0, 60)].filter((x) => x !== undefined && x !== '').join(': ');
      return `${r.status} +${secs(r.at - start)}${who ? ` (${who})` : ''}`;
    })
    .join(', ');
}

/** Hold times of every InProgress record that was followed by another; undefined when there is none. Pure. */
export function holdTimesOf(history: ReadonlyMap<string, readonly StatusRecord[]>, limitMs: number): HoldTimeReport | undefined {
  const holds: number[] = [];
  let worst: { id: string; ms: number; records: readonly StatusRecord[] } | undefined;
  for (const [id, records] of history) {
    for (let i = 0; i + 1 < records.length; i++) {
      const r = records[i];
      if (r.status !== 'InProgress') continue;
      const ms = records[i + 1].at - r.at;
      holds.push(ms);
      if (worst === undefined || ms > worst.ms) worst = { id, ms, records };
    }
  }
  if (worst === undefined) return undefined;
  holds.sort((a, b) => a - b);
  const p99 = holds[Math.min(holds.length - 1, Math.floor(0.99 * holds.length))];
  const over = holds.filter((ms) => ms > limitMs).length;
  return { over, limitMs, p99Ms: p99, maxMs: worst.ms, longest: `${worst.id}: ${trail(worst.records)}` };
}
