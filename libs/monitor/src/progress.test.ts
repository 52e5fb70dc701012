import { Consumer, encodeProgress, Queue, type ProgressUpdate } from '@taskq/queue';
import type { MonitorOptions } from './monitor-options';
import { Harness } from './test-support/harness';

let harnesses: Harness[] = [];

afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  harnesses = [];
});

/** A started monitor, and a task fetched by a consumer on the same in-memory Redis, ready to report progress. */
async function setup(options: MonitorOptions = {}) {
  const h = new Harness(options);
  harnesses.push(h);
  const config = { ...h.config, connection: h.redis };
  const queue = new Queue(config);
  const consumer = new Consumer({ ...config, id: 'c1' });
  await consumer.register();
  await queue.enqueueMany([{ id: 't1', type: 'x' }, { id: 't2', type: 'x' }]);
  const { tasks } = await consumer.fetch(['w1', 'w2']);
  await h.monitor.start();
  const updates: ProgressUpdate[] = [];
  h.monitor.onProgress((u) => updates.push(u));
  const report = (items: [string, string][]): Promise<boolean[]> =>
    consumer.reportProgress(items.map(([id, body]) => ({ id, token: tasks.find((t) => t.id === id)!.token, body })));
  return { h, queue, consumer, tasks, updates, report };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Monitor progress (ioredis-mock)', () => {
  it('calls onProgress per task of a progress event and logs `[Monitor] Task X progress 40% (4/10) message` at info', async () => {
    const { h, updates, report } = await setup();
    await report([
      ['t1', encodeProgress({ done: 4, total: 10 }, 'copying files')],
      ['t2', encodeProgress(12.5)],
    ]);
    await until(() => updates.length === 2);
    expect(updates).toEqual([
      { id: 't1', pct: 40, done: 4, total: 10, msg: 'copying files', at: expect.any(Number) as number },
      { id: 't2', pct: 12.5, at: expect.any(Number) as number },
    ]);
    const lines = h.logger.lines.filter((l) => l.msg?.includes('progress'));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', '[Monitor] Task t1 progress 40% (4/10) copying files'],
      ['info', '[Monitor] Task t2 progress 12.5%'],
    ]);
    expect(lines[0].obj).toMatchObject({ taskId: 't1', progress: { pct: 40, done: 4, total: 10, msg: 'copying files' } });
  });

  it('a progress event is no status change: no status callback, no gap in seq (no resync), and the records after it apply as usual', async () => {
    const { h, consumer, tasks, updates, report } = await setup();
    const statuses: string[] = [];
    h.monitor.onStatus('*', '*', (r) => statuses.push(`${r.id}:${r.status}`));
    await report([['t1', encodeProgress(50)]]);
    await until(() => updates.length === 1);
    expect(await consumer.ack('t1', 'w1', tasks[0].token)).toBe(true);
    await until(() => statuses.length === 1);
    expect(statuses).toEqual(['t1:Done']);
    expect(h.logger.lines.filter((l) => /Missed status events|Ignoring a message/.test(l.msg ?? ''))).toEqual([]);
  });

  it('logProgress: false (or log: false) logs no progress line; the callbacks still run, one that throws is logged', async () => {
    const { h, updates, report } = await setup({ logProgress: false });
    h.monitor.onProgress(() => {
      throw new Error('boom');
    });
    const after: string[] = [];
    h.monitor.onProgress((u) => after.push(u.id));
    await report([['t1', encodeProgress(5)]]);
    await until(() => after.length === 1);
    expect(updates).toHaveLength(1);
    expect(h.logger.lines.filter((l) => l.msg?.includes('progress 5%'))).toEqual([]);
    expect(h.logger.messages('warn')).toContain('[Monitor] A progress callback threw');

    const quiet = await setup({ log: false });
    await quiet.report([['t2', encodeProgress(7)]]);
    await until(() => quiet.updates.length === 1);
    expect(quiet.h.logger.lines.filter((l) => l.msg?.includes('progress'))).toEqual([]);
  });

  it('unregisters a callback', async () => {
    const { h, updates, report } = await setup();
    const mine: string[] = [];
    const off = h.monitor.onProgress((u) => mine.push(u.id));
    off();
    await report([['t1', encodeProgress(5)]]);
    await until(() => updates.length === 1);
    expect(mine).toEqual([]);
  });
});
