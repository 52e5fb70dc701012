import { Redis } from 'ioredis';
import { Monitor } from '@taskq/monitor';
import { Queue, queueKeys, TasksLostError } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line, type LogLine } from './test-support/app-process';

/**
 * Redis restarted without persistence loses every task, record and
 * registration. Nothing may wait forever or blame the wrong cause: the
 * producer exits 1 naming the cause, the Monitor rejects waits with
 * TasksLostError, a worker logs one clear error and keeps serving. Its own
 * redis-server (no persistence): the restart empties the whole server.
 */
describe('Redis losing the queue data (restart without persistence)', () => {
  let server: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer({ persistence: false });
    admin = new Redis(server.url, { connectionName: 'taskq-it-admin', maxRetriesPerRequest: null });
  });

  afterEach(async () => {
    await killAllApps();
  });

  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  it('the waiting producer exits 1 naming the cause; the worker logs one error (no "presumed dead", no "refused"), finishes its tasks unrecorded and keeps serving', async () => {
    const queue = 'lost-apps';
    const common = ['--redis', server.url, '--queue', queue];
    const worker = AppProcess.start('worker', ['2', ...common]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const producer = AppProcess.start('producer', ['6', '--min-ms', '1500', '--max-ms', '1500', '--id-prefix', 'lost_', ...common]);
    await worker.waitForLines(line.msgStarts('START lost_'), 2, 'two tasks running');

    await server.restart(); // every key is gone

    const exit = await producer.waitForExit(20_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
    expect(producer.stderr).toMatch(
      /^error: 6 task\(s\) of queue lost-apps are unknown to Redis \(lost_1, lost_2, lost_3, lost_4, lost_5, …\): Redis lost queue lost-apps's data: its data since \S+ \(epoch \d+\) is gone.* — the server restarted without persistence, was flushed, or failed over to a replica that did not have the data\. They will not run and their outcome will not be recorded; enqueue them again\n$/,
    );

    const lossLine = (l: LogLine): boolean => l.level >= 50 && l.msg.startsWith("Redis lost queue lost-apps's data");
    await worker.waitForLine(lossLine, "the worker's data-loss error", 10_000);
    // the two running tasks end, their outcomes not recorded, and say why
    await worker.waitForLines(line.msgIncludes("not recorded: Redis lost the queue's data"), 2, 'the two tasks finished unrecorded', 10_000);

    // still serving: a new run is processed
    const again = AppProcess.start('producer', ['3', '--min-ms', '0', '--max-ms', '5', '--id-prefix', 'after_', '--json', ...common]);
    const after = await again.waitForExit(20_000);
    expect({ code: after.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(again.stdoutLines.at(-1) ?? 'null')).toMatchObject({ total: 3, Done: 3 });

    const errors = worker.lines.filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg).filter((m) => m.includes('lost'))).toHaveLength(1);
    expect(errors[0].msg).toContain('the 2 task(s) running here are unknown to Redis now');
    const misleading = worker.lines.filter((l) => /presumed dead|refused|taken back/.test(l.msg));
    expect(misleading.map((l) => l.msg)).toEqual([]);
    worker.signal('SIGTERM');
    expect((await worker.waitForExit(10_000)).code).toBe(0);
  });

  it('Monitor: waitFor rejects with TasksLostError naming the lost tasks; onDataLost reports them; the new data is followed from its first record', async () => {
    const config = { queue: 'lost-monitor', connection: server.url };
    const queue = new Queue(config);
    const monitor = new Monitor(config);
    const events: { taskIds: readonly string[]; reason: string }[] = [];
    try {
      await monitor.start();
      monitor.onDataLost((e) => events.push({ taskIds: e.taskIds, reason: e.loss.reason }));
      await queue.enqueueMany(['m1', 'm2', 'm3'].map((id) => ({ id, type: 'nobody-runs-it' })));
      const before = queue.epoch;
      expect(before).toMatch(/^\d{16}$/);
      // a long wait for tasks no worker runs; and a record with a high seq, so that the new data's low seqs must not be hidden by it
      for (let i = 0; i < 20; i++) await queue.enqueue('filler', null);
      await monitor.waitFor(['m1', 'm2', 'm3'], ['Queued'], { timeoutMs: 5000 }); // read once: the monitor knows the epoch
      const waiting = monitor.waitFor(['m1', 'm2', 'm3']).catch((err: unknown) => err);

      await server.restart();

      const error = await waiting;
      expect(error).toBeInstanceOf(TasksLostError);
      expect(error).toMatchObject({ code: 'TASKQ_TASKS_LOST', count: 3, taskIds: ['m1', 'm2', 'm3'] });
      expect((error as Error).message).toMatch(/^3 task\(s\) of queue lost-monitor are unknown to Redis \(m1, m2, m3\): Redis lost queue lost-monitor's data: /);
      expect(events.map((e) => e.taskIds)).toEqual([['m1', 'm2', 'm3']]);
      expect(events[0].reason).toContain('restarted without persistence');

      // the same id enqueued again, in the new data: its records (seq 1, 2, …) are followed, not hidden by the lost data's
      const again = await queue.enqueue('nobody-runs-it', null, { id: 'm1' });
      expect(queue.epoch).not.toBe(before);
      expect((await monitor.waitFor(again.id, ['Queued'], { timeoutMs: 5000 })).seq).toBeLessThan(5);
      await queue.cancel('m1');
      expect((await monitor.waitFor('m1', ['Cancelled'], { timeoutMs: 5000 })).status).toBe('Cancelled');
      expect(events).toHaveLength(1);
    } finally {
      await monitor.stop();
      await queue.close();
    }
  });

  it('Queue.checkData: nothing while the data is there; a changed epoch or a seq counter gone back once each', async () => {
    const config = { queue: 'lost-check', connection: server.url };
    const queue = new Queue(config);
    const keys = queueKeys('lost-check');
    try {
      expect(await queue.checkData()).toBeUndefined(); // nothing enqueued, nothing followed
      const task = await queue.enqueue('t', null, { id: 'c1' });
      expect(await admin.get(keys.epoch)).toBe(queue.epoch);
      expect(await queue.checkData()).toBeUndefined();
      await queue.cancel(task.id);
      const seq = (await queue.status(task.id))?.seq ?? 0;
      await queue.statuses([task.id]); // the seq of a record read is the highest seen

      await admin.set(keys.seq, '0'); // as after a restart from an older snapshot
      const rolledBack = await queue.checkData();
      expect(rolledBack?.reason).toBe(
        `Redis lost queue lost-check's latest data: its seq counter is at 0, below ${seq} seen before (the server restarted from an older snapshot, or failed over to a replica that was behind)`,
      );
      expect(await queue.checkData()).toBeUndefined(); // reported once

      const epoch = queue.epoch as string;
      await admin.del(keys.epoch, keys.tasks, keys.status, keys.seq);
      const gone = await queue.checkData();
      expect(gone).toMatchObject({ queue: 'lost-check', before: epoch, after: undefined });
      expect(gone?.reason).toMatch(/^Redis lost queue lost-check's data: its data since \d{4}-\d\d-\d\dT[\d:.]+Z \(epoch \d{16}\) is gone — /);
      expect(await queue.checkData()).toBeUndefined();
    } finally {
      await queue.close();
    }
  });
});
