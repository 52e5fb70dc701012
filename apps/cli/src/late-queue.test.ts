import type { StatusRecord } from '@taskq/recorder';
import { watchLines } from './commands';
import { lateQueueLines, ReplayedTasks } from './late-queue';

const at = Date.UTC(2026, 0, 1, 12, 0, 1, 234);
const rec = (id: string, status: StatusRecord['status'], seq: number, extra: Partial<StatusRecord> = {}): StatusRecord => ({ id, status, attempt: status === 'Queued' ? 0 : 1, at, seq, ...extra });

describe('a queue watch found late', () => {
  it('prints its state marked replayed: lines and JSON, the pause last', () => {
    const state = { records: [rec('a', 'Queued', 0), rec('b', 'Done', 3, { worker: 'w-1' })], paused: { event: 'paused' as const, at, seq: 4, reason: 'deploy' } };
    const clock = new Date(at).toTimeString().slice(0, 8);
    expect(lateQueueLines('q', state, false)).toEqual([
      `${clock}.234 q a Queued attempt 0 (replayed)`,
      `${clock}.234 q b Done w-1 attempt 1 (replayed)`,
      `${clock}.234 q queue paused: deploy (replayed)`,
    ]);
    expect(lateQueueLines('q', state, true).map((l) => JSON.parse(l) as unknown)).toEqual([
      { queue: 'q', id: 'a', status: 'Queued', attempt: 0, at, seq: 0, replayed: true },
      { queue: 'q', id: 'b', status: 'Done', attempt: 1, at, seq: 3, worker: 'w-1', replayed: true },
      { queue: 'q', event: 'paused', at, seq: 4, reason: 'deploy', replayed: true },
    ]);
    expect(lateQueueLines('q', { records: [], paused: undefined }, false)).toEqual([]);
  });

  it('drops the live records the replay showed, and forgets a task at its first newer record', () => {
    const replayed = new ReplayedTasks();
    // b was replayed as Done (seq 3); a as Queued from its body (no record stored)
    replayed.add('q', [rec('a', 'Queued', 0), rec('b', 'Done', 3)]);
    expect(replayed.size).toBe(2);
    const stale = (r: StatusRecord): boolean => replayed.stale('q', r);
    // b's records up to its Done arrive late: all stale
    const late = JSON.stringify([rec('b', 'Queued', 1), rec('b', 'InProgress', 2), rec('b', 'Done', 3)]);
    expect(watchLines('q', late, true, stale)).toEqual([]);
    // a's enqueue record is stale (the replay's Queued stood for it); its InProgress is news
    expect(watchLines('q', JSON.stringify([rec('a', 'Queued', 1)]), true, stale)).toEqual([]);
    expect(watchLines('q', JSON.stringify([rec('a', 'InProgress', 5)]), true, stale)?.map((l) => JSON.parse(l) as unknown)).toEqual([{ queue: 'q', ...rec('a', 'InProgress', 5) }]);
    // b requeued later: news, and b is forgotten
    expect(watchLines('q', JSON.stringify([rec('b', 'Queued', 6)]), true, stale)).toHaveLength(1);
    expect(replayed.size).toBe(0);
    // other queues and unknown tasks are never stale
    expect(replayed.stale('other', rec('b', 'Done', 1))).toBe(false);
    expect(watchLines('q', JSON.stringify([rec('c', 'Done', 2)]), true, stale)).toHaveLength(1);
  });
});
