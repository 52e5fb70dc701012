import { Monitor } from '@taskq/monitor';
import { Queue, type QueueEvent } from '@taskq/queue';
import { WorkerPool } from '@taskq/worker-pool';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { newQueueName, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

afterEach(async () => {
  await killAllApps();
});

describe('pause and resume a queue', () => {
  it('a paused queue hands out nothing while tasks keep arriving and a running task finishes Done; resume wakes the workers at once', async () => {
    const config = { queue: newQueueName('pause'), connection: testRedisUrl() };
    const started: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const poolLog = new CaptureLogger();
    const monitorLog = new CaptureLogger();
    // idlePollMs 5000 (the default): a resume that did not wake the pool would take seconds
    const pool = new WorkerPool({
      ...config,
      concurrency: 2,
      logger: poolLog,
      handlers: {
        work: async (task: { id: string; payload: unknown }) => {
          started.push(task.id);
          if ((task.payload as { hold?: boolean } | null)?.hold) await gate;
        },
      },
    });
    const queue = new Queue(config);
    const monitor = new Monitor({ ...config, logger: monitorLog });
    const events: QueueEvent[] = [];
    try {
      await monitor.start();
      monitor.onQueueEvent((e) => events.push(e));
      await pool.start();
      await queue.enqueue('work', { hold: true }, { id: 'a' });
      await waitUntil(() => started.includes('a'), { timeoutMs: 5000, what: 'task a to start' });

      const paused = await queue.pause('maintenance');
      expect(paused).toMatchObject({ event: 'paused', reason: 'maintenance' });
      expect(await queue.paused()).toEqual(paused);
      expect(await queue.pause('again')).toEqual(paused); // paused already: the first pause stands
      await queue.enqueueMany(['b', 'c', 'd'].map((id) => ({ id, type: 'work', payload: null })));
      // the idle sub-worker was woken by the enqueue and found the queue paused
      await waitUntil(() => poolLog.messages().some((m) => m.startsWith(`queue ${config.queue} is paused`)), {
        timeoutMs: 5000,
        what: "the pool's paused line",
      });
      expect(started).toEqual(['a']);

      // the running task finishes and is recorded while the queue is paused; its ack's fetch hands out nothing
      release();
      expect((await monitor.waitFor('a', ['Done'], { timeoutMs: 5000 })).status).toBe('Done');
      await pool.stop(0); // no fetch in flight any more: what it took is final
      expect(started).toEqual(['a']);
      expect([...(await queue.statuses(['b', 'c', 'd'])).values()].map((r) => r?.status)).toEqual(['Queued', 'Queued', 'Queued']);
      expect(await queue.readyCount()).toBe(3);

      // a new pool on the paused queue takes nothing either
      const second = new WorkerPool({
        ...config,
        concurrency: 2,
        logger: poolLog,
        handlers: { work: (task: { id: string }) => void started.push(task.id) },
      });
      await second.start();
      await waitUntil(() => poolLog.messages().filter((m) => m.startsWith(`queue ${config.queue} is paused`)).length >= 2, {
        timeoutMs: 5000,
        what: "the second pool's paused line",
      });
      expect(started).toEqual(['a']);

      const resumedAt = Date.now();
      expect(await queue.resume()).toMatchObject({ event: 'resumed' });
      expect(await queue.resume()).toBeUndefined(); // not paused any more
      expect(await queue.paused()).toBeUndefined();
      await monitor.waitFor(['b', 'c', 'd'], ['Done'], { timeoutMs: 5000 });
      expect(Date.now() - resumedAt).toBeLessThan(2500); // woken by the resume, not by its 5 s poll
      expect(started.sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(poolLog.messages()).toContain(`queue ${config.queue} is no longer paused: taking tasks again`);
      await second.stop();

      expect(events.map((e) => [e.event, e.reason])).toEqual([
        ['paused', 'maintenance'],
        ['resumed', undefined],
      ]);
      expect(monitorLog.messages()).toEqual(
        expect.arrayContaining([`[Monitor] Queue ${config.queue} is paused (maintenance)`, `[Monitor] Queue ${config.queue} is resumed`]),
      );
      // the queue events took seqs of their own: the monitor saw no gap, re-read nothing for them
      expect(monitorLog.lines.filter((l) => l.msg.includes('Missed status events'))).toEqual([]);
    } finally {
      await pool.stop(0);
      await monitor.stop();
      await queue.close();
    }
  });

  it('the producer says so when it enqueues into a paused queue', async () => {
    const name = newQueueName('pause-producer');
    const queue = new Queue({ queue: name, connection: testRedisUrl() });
    try {
      await queue.pause('deploy');
      const producer = AppProcess.start('producer', ['3', '--no-wait', '--redis', testRedisUrl(), '--queue', name]);
      const warning = await producer.waitForLine(line.msgStarts(`queue ${name} is paused since `), 'the paused warning');
      expect(warning.msg).toMatch(new RegExp(`^queue ${name} is paused since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(deploy\\): the tasks wait until it is resumed$`));
      expect((await producer.waitForExit(15_000)).code).toBe(0);
      expect(await queue.readyCount()).toBe(3);
    } finally {
      await queue.close();
    }
  });
});
