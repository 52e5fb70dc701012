import { watchLines } from './commands';
import { clock, duration, preview, recordLine } from './format';
import { queueOfKey, globEscape } from '@taskq/queue';

describe('watch lines', () => {
  const at = new Date(2026, 11, 4, 12, 0, 1, 234).getTime(); // local time, as watch prints it

  it('one line per record of a message: time, queue, id, status, worker, attempt, due time, reason', () => {
    const message = JSON.stringify([
      { id: 'task_1', status: 'InProgress', attempt: 1, at, seq: 7, worker: 'worker-4711-1' },
      { id: 'task_2', status: 'Retrying', attempt: 2, at, seq: 8, worker: 'worker-4711-2', reason: 'boom\n  at x', runAt: at + 1766 },
    ]);
    expect(watchLines('default', message, false)).toEqual([
      '12:00:01.234 default task_1 InProgress worker-4711-1 attempt 1',
      '12:00:01.234 default task_2 Retrying worker-4711-2 attempt 2 due 12:00:03.000: boom at x',
    ]);
  });

  it('a queue event as a line; --json: one JSON object per record or event, with its queue', () => {
    const pause = JSON.stringify({ event: 'paused', at, seq: 9, reason: 'deploy' });
    expect(watchLines('emails', pause, false)).toEqual(['12:00:01.234 emails queue paused: deploy']);
    expect(watchLines('emails', pause, true)?.map((l) => JSON.parse(l) as unknown)).toEqual([{ queue: 'emails', event: 'paused', at, seq: 9, reason: 'deploy' }]);
    const record = { id: 't', status: 'Done', attempt: 1, at, seq: 3 };
    expect(watchLines('emails', JSON.stringify([record]), true)?.map((l) => JSON.parse(l) as unknown)).toEqual([{ queue: 'emails', ...record }]);
  });

  it("a progress message: one line per task's report; --json: one object per report, event progress", () => {
    const message = JSON.stringify({ event: 'progress', at, tasks: [{ id: 'a', pct: 40, done: 4, total: 10, at }, { id: 'b', pct: 12.5, msg: 'copying\nfiles', at }] });
    expect(watchLines('default', message, false)).toEqual(['12:00:01.234 default a progress 40% (4/10)', '12:00:01.234 default b progress 12.5% copying files']);
    expect(watchLines('default', message, true)?.map((l) => JSON.parse(l) as unknown)).toEqual([
      { queue: 'default', event: 'progress', id: 'a', pct: 40, done: 4, total: 10, at },
      { queue: 'default', event: 'progress', id: 'b', pct: 12.5, msg: 'copying\nfiles', at },
    ]);
  });

  it('a message that is neither: undefined (watch notes it on stderr)', () => {
    expect(watchLines('q', 'hello', false)).toBeUndefined();
    expect(watchLines('q', '[{"id":1}]', false)).toBeUndefined();
  });

  it('recordLine leaves out what a record does not have', () => {
    expect(recordLine('q', { id: 'a', status: 'Queued', attempt: 0, at, seq: 1 })).toBe('12:00:01.234 q a Queued attempt 0');
    expect(clock(at)).toBe('12:00:01.234');
  });
});

describe('durations and previews', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [4200, '4.2s'],
    [185_000, '3m05s'],
    [7_380_000, '2h03m'],
    [273_600_000, '3d04h'],
  ])('%d ms is %s', (ms, text) => expect(duration(ms)).toBe(text));

  it('shortens a long payload with an ellipsis', () => {
    expect(preview({ a: 'x'.repeat(50) }, 12)).toBe('{"a":"xxxxx…');
    expect(preview(null)).toBe('null');
  });
});

describe('queue names from keys', () => {
  it('takes the hash tag of a key under the prefix; refuses other prefixes and invalid names', () => {
    expect(queueOfKey('taskq:{emails}:ready', 'taskq')).toBe('emails');
    expect(queueOfKey('taskq:{a.b:c-d}:processing:host-1', 'taskq')).toBe('a.b:c-d');
    expect(queueOfKey('other:{emails}:ready', 'taskq')).toBeUndefined();
    expect(queueOfKey('taskq:{emails', 'taskq')).toBeUndefined();
    expect(queueOfKey('taskq:{bad name}:ready', 'taskq')).toBeUndefined();
  });

  it('escapes glob characters of a prefix for SCAN MATCH', () => {
    expect(globEscape('app*[1]?\\')).toBe('app\\*\\[1\\]\\?\\\\');
  });
});
