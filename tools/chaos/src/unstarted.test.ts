import type { StatusRecord, TaskStatus } from '@taskq/recorder';
import { findUnstartedFetches, pidOfWorker } from './unstarted';

const rec = (id: string, status: TaskStatus, at: number, attempt: number, extra: Partial<StatusRecord> = {}): StatusRecord => ({ id, status, attempt, at, seq: at, ...extra });

describe('findUnstartedFetches', () => {
  const history = new Map<string, StatusRecord[]>([
    // started and done: fine
    ['a', [rec('a', 'InProgress', 1000, 1, { worker: 'worker-100-1' }), rec('a', 'Done', 1010, 1)]],
    // fetched for worker 100, never started although 100 lived on: an orphan, released only when 100 stopped
    ['b', [rec('b', 'InProgress', 1000, 1, { worker: 'worker-100-2' }), rec('b', 'Queued', 19_000, 1, { reason: 'consumer c stopped' })]],
    // fetched by worker 200, which was killed 300 ms later: not started, legitimately
    ['c', [rec('c', 'InProgress', 5000, 1, { worker: 'worker-200-1' }), rec('c', 'Queued', 7000, 1)]],
    // fetched for worker 100 during a Redis restart; the reply was lost and its pool gave it back
    ['d', [rec('d', 'InProgress', 2000, 1, { worker: 'worker-100-3' }), rec('d', 'Queued', 4500, 0, { reason: 'fetched by c but the reply was lost; returned to the queue' })]],
  ]);
  const handled = (taskId: string, attempt: number, worker: string) => taskId === 'a' && attempt === 1 && worker === 'worker-100-1';
  const endedAt = (pid: number) => (pid === 200 ? 5300 : pid === 100 ? 19_000 : undefined);

  it('reports a fetch its live worker never handled', () => {
    expect(findUnstartedFetches(history, handled, endedAt, 1000)).toEqual({
      count: 1,
      reconciled: 1,
      examples: ['b attempt 1 on worker-100-2: Queued 18.0 s later (consumer c stopped)'],
    });
  });

  it('forgives a fetch that its worker could not start before being killed', () => {
    expect(findUnstartedFetches(history, handled, endedAt, 200).count).toBe(2);
  });

  it('reads the pid from a sub-worker name', () => {
    expect([pidOfWorker('worker-4711-2'), pidOfWorker('my-pool-12-3'), pidOfWorker('nope')]).toEqual([4711, 12, undefined]);
  });
});
