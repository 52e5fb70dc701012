import { Consumer, encodeProgress, Janitor, Queue, queueKeys, type ProgressUpdate } from '@taskq/queue';
import { Monitor } from '@taskq/monitor';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();
const monitors: Monitor[] = [];

afterEach(async () => {
  await killAllApps();
  for (const m of monitors.splice(0)) await m.stop();
  await clients.close();
});

/** The worker's default progressIntervalMs. */
const INTERVAL_MS = 500;

describe('task progress', () => {
  it('a worker app running sleep tasks: a Monitor sees each task\'s progress, non-decreasing, at most one update per task per interval; Queue.progress reads it while the task runs and it is gone once Done', async () => {
    const queue = newQueueName('progress');
    const redis = await clients.connect();
    const keys = queueKeys(queue);
    const q = new Queue({ queue, connection: redis });
    const monitor = new Monitor({ queue, connection: redis, log: false });
    monitors.push(monitor);
    const updates: (ProgressUpdate & { receivedAt: number })[] = [];
    monitor.onProgress((u) => updates.push({ ...u, receivedAt: Date.now() }));
    await monitor.start();

    const worker = AppProcess.start('worker', ['2', '--redis', testRedisUrl(), '--queue', queue]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const ids = ['p1', 'p2'];
    await q.enqueueMany(ids.map((id) => ({ id, type: 'sleep', payload: { ms: 3000 } })));

    // while p1 runs, its latest progress is in Redis
    await waitUntil(() => updates.find((u) => u.id === 'p1' && (u.done ?? 0) >= 3), { timeoutMs: 10_000, what: 'p1 at 30 %' });
    const stored = await q.progress('p1');
    expect(stored).toMatchObject({ total: 10 });
    expect(stored!.done).toBeGreaterThanOrEqual(3);

    const final = await monitor.waitFor(ids, undefined, { timeoutMs: 15_000 });
    expect([...final.values()].map((r) => r.status)).toEqual(['Done', 'Done']);
    for (const id of ids) {
      const mine = updates.filter((u) => u.id === id);
      const steps = mine.map((u) => u.done);
      // every 10 % of 3 s is 300 ms, throttled to one write per 500 ms: about 5 of the 9 steps
      expect(steps.length).toBeGreaterThanOrEqual(3);
      expect(steps.length).toBeLessThanOrEqual(Math.ceil(3000 / INTERVAL_MS) + 1);
      expect(steps).toEqual([...steps].sort((a, b) => (a ?? 0) - (b ?? 0)));
      expect(new Set(steps).size).toBe(steps.length);
      for (const u of mine) expect(u).toMatchObject({ total: 10, pct: (u.done ?? 0) * 10 });
      // Redis time of the writes: about one interval apart at least (the worker spaces its flushes by its own
      // clock; a round trip may take a few ms more or less than the one before). Unthrottled, they would be 300 ms apart.
      for (let i = 1; i < mine.length; i++) expect(mine[i].at - mine[i - 1].at).toBeGreaterThanOrEqual(INTERVAL_MS * 0.9);
      // each arrived before its task's Done
      expect(Math.max(...mine.map((u) => u.at))).toBeLessThanOrEqual(final.get(id)!.at);
    }
    expect(await q.progressMany(ids)).toEqual(new Map(ids.map((id) => [id, undefined])));
    expect(await redis.exists(keys.progress)).toBe(0);
  });

  it('the producer\'s Monitor logs progress lines between InProgress and Done', async () => {
    const queue = newQueueName('progress-log');
    const common = ['--redis', testRedisUrl(), '--queue', queue];
    const worker = AppProcess.start('worker', ['3', ...common]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const producer = AppProcess.start('producer', ['3', '--min-ms', '1500', '--max-ms', '2000', '--id-prefix', 'pl_', ...common]);
    const exit = await producer.waitForExit(30_000);
    expect({ code: exit.code, stderr: producer.stderr }).toEqual({ code: 0, stderr: '' });
    for (const id of ['pl_1', 'pl_2', 'pl_3']) {
      const mine = producer.lines.filter((l) => l['taskId'] === id && l.msg.startsWith('[Monitor]')).map((l) => l.msg);
      const progress = mine.filter((m) => m.includes(' progress '));
      expect(progress.length).toBeGreaterThanOrEqual(2);
      for (const m of progress) expect(m).toMatch(new RegExp(`^\\[Monitor\\] Task ${id} progress (\\d)0% \\(\\1/10\\)$`));
      // the statuses as before, the progress lines between InProgress and Done
      expect(mine.filter((m) => !m.includes(' progress '))).toEqual(['Queued', 'InProgress', 'Done'].map((s) => `[Monitor] Task ${id} is ${s}`));
      expect(mine.indexOf(progress[0])).toBeGreaterThan(mine.indexOf(`[Monitor] Task ${id} is InProgress`));
      expect(mine.indexOf(progress[progress.length - 1])).toBeLessThan(mine.indexOf(`[Monitor] Task ${id} is Done`));
    }
    const line40 = producer.lines.find((l) => / progress /.test(l.msg));
    expect(line40?.['progress']).toMatchObject({ total: 10 });
  });

  it('a fetch whose task was recovered cannot write its progress: refused, nothing stored or published, and the new fetch can', async () => {
    const queue = newQueueName('progress-fence');
    const redis = await clients.connect();
    const keys = queueKeys(queue);
    const config = { queue, connection: redis };
    const q = new Queue(config);
    const monitor = new Monitor({ ...config, log: false });
    monitors.push(monitor);
    const seen: string[] = [];
    monitor.onProgress((u) => seen.push(`${u.id}:${u.pct}`));
    await monitor.start();
    await q.enqueue({ id: 'z', type: 'sleep', payload: { ms: 1 } });
    const zombie = new Consumer({ ...config, id: `${queue}-A`, logger: new CaptureLogger() });
    await zombie.register();
    const [held] = (await zombie.fetch(['A-1'])).tasks;
    expect(await zombie.reportProgress([{ id: 'z', token: held.token, body: encodeProgress(10) }])).toEqual([true]);
    await waitUntil(() => seen.length === 1 || undefined, { timeoutMs: 5000, what: 'the first update' });

    // A stops beating; a janitor pass returns its task, and its progress goes with the run
    await redis.zadd(keys.consumers, Date.now() - 60_000, zombie.id);
    expect((await new Janitor({ ...config, staleAfterMs: 5000, logger: new CaptureLogger() }).runOnce()).recovered.get(zombie.id)).toBe(1);
    expect(await q.progress('z')).toBeUndefined();
    expect(await zombie.reportProgress([{ id: 'z', token: held.token, body: encodeProgress(20) }])).toEqual([false]);

    const b = new Consumer({ ...config, id: `${queue}-B`, logger: new CaptureLogger() });
    await b.register();
    const [again] = (await b.fetch(['B-1'])).tasks;
    expect(await zombie.reportProgress([{ id: 'z', token: held.token, body: encodeProgress(30) }])).toEqual([false]);
    expect(await b.reportProgress([{ id: 'z', token: again.token, body: encodeProgress(40) }])).toEqual([true]);
    await waitUntil(() => seen.length === 2 || undefined, { timeoutMs: 5000, what: 'the second update' });
    expect(seen).toEqual(['z:10', 'z:40']);
    expect(await q.progress('z')).toMatchObject({ pct: 40 });
    expect(await b.ack('z', 'B-1', again.token)).toBe(true);
    expect(await q.progress('z')).toBeUndefined();
    await b.unregister();
  });
});
