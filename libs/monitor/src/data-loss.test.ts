import { TasksLostError } from '@taskq/queue';
import type { MonitorDataLoss } from './monitor';
import { Harness } from './test-support/harness';

const E1 = '1796351881812120';
const E2 = '1796351883870938';

describe('Monitor when Redis lost the queue data', () => {
  let h: Harness;

  afterEach(async () => {
    await h.close();
  });

  it('events that step back in seq (a flush, no reconnect): the followed task is lost, its waitFor rejects, the new data is followed from its first record', async () => {
    h = new Harness();
    await h.monitor.start(); // before the queue's first use: no epoch yet
    const events: MonitorDataLoss[] = [];
    h.monitor.onDataLost((e) => events.push(e));
    await h.redis.set(h.keys.epoch, E1);
    const yDone = h.next('y', 'Done');
    await h.record('x', 'Queued');
    await h.record('y', 'InProgress');
    await h.record('y', 'Done');
    await yDone; // every event of the old data is in (they come in order): y is final, not followed
    const waiting = h.monitor.waitFor(['x', 'y']).catch((err: unknown) => err);

    // every key of the queue gone; the new data has its own epoch and starts again at seq 1
    await h.redis.del(h.keys.status, h.keys.seq, h.keys.epoch, h.keys.tasks);
    await h.redis.set(h.keys.epoch, E2);
    await h.record('z', 'Queued'); // seq 1, below the 3 seen: the monitor re-reads and checks

    const error = await waiting;
    expect(error).toBeInstanceOf(TasksLostError);
    expect(error).toMatchObject({ code: 'TASKQ_TASKS_LOST', taskIds: ['x'], count: 1 });
    expect(events.map((e) => [e.taskIds, e.loss.before, e.loss.after])).toEqual([[['x'], E1, E2]]);
    expect(h.logger.messages('error')).toEqual([
      expect.stringMatching(/^\[Monitor\] Redis lost queue q\d+'s data: its data since 2026-12-04T02:38:01\.812Z \(epoch 1796351881812120\) is gone; Redis has the queue's data since 2026-12-04T02:38:03\.870Z .*; 1 followed task\(s\) are lost: x$/) as unknown,
    ]);
    // the records of the lost data are forgotten: the new data's x (seq 2) is not hidden by the old one (seq 1, or y's 3)
    const next = h.next('x', 'Queued');
    await h.record('x', 'Queued');
    expect((await next).seq).toBe(2);
    expect(h.monitor.latest('y')).toBeUndefined();
    expect(events).toHaveLength(1);
  });

  it('a seq counter gone back under the same epoch (an older snapshot): reported, the records re-read, tasks still there not lost', async () => {
    h = new Harness();
    await h.redis.set(h.keys.epoch, E1);
    await h.monitor.start();
    const events: MonitorDataLoss[] = [];
    h.monitor.onDataLost((e) => events.push(e));
    await h.record('a', 'Queued');
    await h.record('a', 'InProgress');
    await h.record('a', 'Retrying');
    const waiting = h.monitor.waitFor('a', ['Done']);
    await h.monitor.resync();
    expect(events).toEqual([]);

    await h.redis.set(h.keys.seq, '1'); // the snapshot was taken before a's last two transitions
    await h.monitor.resync();
    expect(events.map((e) => e.taskIds)).toEqual([[]]);
    expect(events[0].loss.reason).toMatch(/^Redis lost queue q\d+'s latest data: its seq counter is at 1, below 3 seen before/);
    expect(h.logger.messages('warn')).toContainEqual(expect.stringMatching(/none of the tasks this monitor follows was lost$/) as unknown);
    // a is still followed, and its next record (seq 2 now) is applied
    await h.record('a', 'Done');
    expect((await waiting).seq).toBe(2);
  });
});
