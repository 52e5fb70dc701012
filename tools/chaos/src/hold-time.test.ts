import type { StatusRecord, TaskStatus } from '@taskq/recorder';
import { holdTimesOf } from './hold-time';

const rec = (id: string, status: TaskStatus, at: number, extra: Partial<StatusRecord> = {}): StatusRecord => ({ id, status, attempt: 1, at, seq: at, ...extra });

describe('holdTimesOf', () => {
  it('measures how long each InProgress lasted and describes the task held longest, step by step', () => {
    const history = new Map<string, StatusRecord[]>([
      // 5 s in the backlog, then a 100 ms attempt: the wait does not count
      ['a', [rec('a', 'Queued', 1000), rec('a', 'InProgress', 6000, { worker: 'w-1' }), rec('a', 'Done', 6100)]],
      [
        'b',
        [
          rec('b', 'Queued', 1000),
          rec('b', 'InProgress', 1050, { worker: 'w-2' }),
          rec('b', 'Queued', 3060, { reason: 'recovered from dead consumer c1' }),
          rec('b', 'InProgress', 3100, { worker: 'w-3' }),
          rec('b', 'Done', 3300),
        ],
      ],
      // still running at the end: no next record, no hold time
      ['c', [rec('c', 'Queued', 1000), rec('c', 'InProgress', 1020)]],
    ]);
    const report = holdTimesOf(history, 2000);
    expect(report).toMatchObject({ maxMs: 2010, p99Ms: 2010, over: 1, limitMs: 2000 });
    expect(holdTimesOf(history, 2010)?.over).toBe(0);
    expect(report?.longest).toBe(
      'b: Queued +0.0, InProgress +0.1 (w-2), Queued +2.1 (recovered from dead consumer c1), InProgress +2.1 (w-3), Done +2.3',
    );
  });

  it('is undefined when no attempt finished', () => {
    expect(holdTimesOf(new Map([['c', [rec('c', 'Queued', 1), rec('c', 'InProgress', 2)]]]), 1000)).toBeUndefined();
  });
});
