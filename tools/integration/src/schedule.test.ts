import { Queue, queueKeys } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { newClient, newQueueName, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

afterEach(async () => {
  await killAllApps();
});

const TICK = 'schedule:beat:';

/** Tick times of the schedule's tasks started in these workers, one entry per START line. */
function startedTicks(workers: readonly AppProcess[]): number[] {
  return workers.flatMap((w) => w.lines.filter((l) => l.msg.startsWith(`START ${TICK}`)).map((l) => Number(l.msg.slice(`START ${TICK}`.length))));
}

async function startWorkers(n: number, queue: string): Promise<AppProcess[]> {
  const workers = Array.from({ length: n }, () => AppProcess.start('worker', ['2', '--redis', testRedisUrl(), '--queue', queue]));
  await Promise.all(workers.map((w) => w.waitForLine(line.poolReady, 'the pool-ready line')));
  return workers;
}

async function stopWorkers(workers: readonly AppProcess[]): Promise<void> {
  for (const w of workers) w.signal('SIGTERM');
  for (const w of workers) expect((await w.waitForExit(15_000)).code).toBe(0);
}

describe('schedules (4 worker processes, each with its janitor)', () => {
  it('every tick is enqueued and run exactly once, and across a restart of every worker (7 ticks missed) the missed ticks make one run', async () => {
    const name = newQueueName('schedule');
    const redis = newClient(testRedisUrl(), { connectionName: 'taskq-it-admin' });
    const queue = new Queue({ queue: name, connection: testRedisUrl() });
    try {
      // the workers first: ticks before any janitor runs would be coalesced too
      const before = await startWorkers(4, name);
      await queue.schedule('beat', { everyMs: 1000, task: { type: 'sleep', payload: { ms: 1 } } });
      await waitUntil(() => startedTicks(before).length >= 3, { timeoutMs: 10_000, what: 'three ticks run' });
      await stopWorkers(before);
      const lastBefore = Math.max(...startedTicks(before));

      // no worker runs while more ticks pass than a janitor catches up on (5)
      const next = Number(await redis.zscore(queueKeys(name).scheduled, 'beat'));
      expect(next).toBe(lastBefore + 1000);
      await waitUntil(
        async () => {
          const [sec, usec] = await redis.time();
          return Number(sec) * 1000 + Number(usec) / 1000 > next + 6500;
        },
        { timeoutMs: 15_000, intervalMs: 100, what: 'seven ticks to pass with no worker' },
      );
      const after = await startWorkers(4, name);
      await waitUntil(() => startedTicks(after).length >= 3, { timeoutMs: 10_000, what: 'three ticks run after the restart' });
      await stopWorkers(after);

      const ticks = startedTicks([...before, ...after]).sort((a, b) => a - b);
      // each tick ran once, in one worker of the eight
      expect(new Set(ticks).size).toBe(ticks.length);
      const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
      // one tick a second (a late pass catches up), but for the stop: the first missed tick ran once, then the clock's next one
      expect(gaps.filter((g) => g !== 1000)).toHaveLength(1);
      expect(gaps.find((g) => g !== 1000)).toBeGreaterThanOrEqual(7000);
      expect(ticks).toContain(next);
      // every tick's task ended Done
      const statuses = await queue.statuses(ticks.map((t) => `${TICK}${t}`));
      expect(new Set([...statuses.values()].map((r) => r?.status))).toEqual(new Set(['Done']));
      // and the schedule is listed with its next tick
      expect(await queue.schedules()).toEqual([expect.objectContaining({ name: 'beat', everyMs: 1000 }) as unknown]);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});
