import { Consumer, Janitor, Queue, queueKeys } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { whereIs } from './test-support/queue-state';
import { recorded, recordedMany } from './test-support/recorded';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { StatusLog } from './test-support/status-log';

const clients = new RedisClients();
const logs: StatusLog[] = [];

afterEach(async () => {
  await killAllApps();
  for (const log of logs.splice(0)) await log.stop();
  await clients.close();
});

async function setup(label: string) {
  const name = newQueueName(label);
  const redis = await clients.connect();
  const log = await StatusLog.start(redis, name);
  logs.push(log);
  return { redis, keys: queueKeys(name), queue: new Queue({ queue: name, connection: redis }), log };
}

async function startWorker(queue: string): Promise<AppProcess> {
  const worker = AppProcess.start('worker', ['1', '--redis', testRedisUrl(), '--queue', queue]);
  await worker.waitForLine(line.poolReady, 'the pool-ready line');
  return worker;
}

const cancelled = (id: string) => ({ id, outcome: 'cancelled', status: 'Cancelled', cancelled: true });

describe('cancelling a task that is waiting', () => {
  it('Queued, Delayed and Retrying: cancelled at once, out of the ready list / delayed set, and never run', async () => {
    const { redis, keys, queue, log } = await setup('cancel-waiting');

    // Queued, with no worker yet
    const { id: queued } = await queue.enqueue({ id: `${queue.name}-queued`, type: 'sleep', payload: { ms: 1 } });
    expect(await whereIs(redis, keys, queued)).toEqual(['ready']);
    expect(await queue.cancel(queued)).toEqual(cancelled(queued));
    expect(await recorded(redis, keys, queued)).toMatchObject({ status: 'Cancelled', attempt: 0, reason: 'cancelled' });
    expect(await whereIs(redis, keys, queued)).toEqual(['cancelled']);
    expect(await queue.readyCount()).toBe(0);

    // Delayed
    const delayed = await queue.enqueue({ id: `${queue.name}-delayed`, type: 'sleep', payload: { ms: 1 }, delayMs: 800 });
    expect(await whereIs(redis, keys, delayed.id)).toEqual(['delayed']);
    expect(await queue.cancel(delayed.id, { reason: 'not needed any more' })).toEqual(cancelled(delayed.id));
    expect(await recorded(redis, keys, delayed.id)).toMatchObject({ status: 'Cancelled', reason: 'not needed any more' });
    expect(await whereIs(redis, keys, delayed.id)).toEqual(['cancelled']);

    // Retrying: its first attempt fails on a worker; the retry is 1.5 s away
    const worker = await startWorker(queue.name);
    const { id: retrying } = await queue.enqueue({
      id: `${queue.name}-retrying`,
      type: 'sleep',
      payload: { ms: 1, failAttempts: 1 },
      backoff: { type: 'fixed', delayMs: 1500 },
    });
    const failed = await log.waitFor(retrying, 'Retrying', 5000);
    expect(await whereIs(redis, keys, retrying)).toEqual(['delayed', 'retrying']);
    expect(await queue.cancel(retrying)).toEqual(cancelled(retrying));
    expect(await recorded(redis, keys, retrying)).toMatchObject({ status: 'Cancelled', attempt: 1 });
    expect(await whereIs(redis, keys, retrying)).toEqual(['cancelled']);
    // the cancelled list, newest first; none of them Done
    expect(await redis.lrange(keys.cancelled, 0, -1)).toEqual([retrying, delayed.id, queued]);
    expect(await redis.exists(keys.finished)).toBe(0);
    const cancelledRecords = await recordedMany(redis, keys, [queued, delayed.id, retrying]);

    // A task due after all three would have been due: once it is Done, none of them ran (again).
    const { id: marker } = await queue.enqueue({
      id: `${queue.name}-marker`,
      type: 'sleep',
      payload: { ms: 1 },
      runAt: Math.max(delayed.enqueuedAt + 800, failed.runAt ?? 0) + 200,
    });
    await log.waitFor(marker, 'Done', 5000);
    await worker.waitForLine(line.msgStarts(`DONE ${marker}`), `DONE ${marker}`);
    expect(worker.linesStartingWith(`START ${queued}`)).toEqual([]);
    expect(worker.linesStartingWith(`START ${delayed.id}`)).toEqual([]);
    expect(worker.linesStartingWith(`START ${retrying}`).map((l) => l['attempt'])).toEqual([1]);
    // the final statuses stayed as they were
    expect(await recordedMany(redis, keys, [queued, delayed.id, retrying])).toEqual(cancelledRecords);
    expect(await queue.cancel(queued)).toEqual({ id: queued, outcome: 'final', status: 'Cancelled', cancelled: false });
  });
});

describe('cancelling a task that is running', () => {
  it('in a worker process: the worker aborts it within 1 s, it is Cancelled, cancel() says so, and it is not retried', async () => {
    const { redis, keys, queue, log } = await setup('cancel-running');
    const worker = await startWorker(queue.name);
    const { id } = await queue.enqueue({ id: `${queue.name}-long`, type: 'sleep', payload: { ms: 30_000 } });
    await worker.waitForLine(line.msgStarts(`START ${id}`), `START ${id}`);

    const cancelAt = Date.now();
    const result = await queue.cancel(id);
    const resolvedAt = Date.now();
    expect(result).toEqual(cancelled(id));
    expect(resolvedAt - cancelAt).toBeLessThan(1000);
    const logged = await worker.waitForLine(line.msgStarts(`CANCELLED ${id}`), `CANCELLED ${id}`, 2000);
    expect(logged.receivedAt - cancelAt).toBeLessThan(1000);
    expect(worker.lines.some(line.msgStarts(`cancel requested for ${id}`))).toBe(true);
    expect(await recorded(redis, keys, id)).toMatchObject({
      status: 'Cancelled',
      attempt: 1,
      reason: 'cancelled while running',
      worker: expect.stringMatching(new RegExp(`^worker-${worker.pid}-1$`)) as unknown,
    });
    expect(await whereIs(redis, keys, id)).toEqual(['cancelled']);

    // the worker carries on with the next task, and the cancelled one never comes back
    const { id: next } = await queue.enqueue({ id: `${queue.name}-next`, type: 'sleep', payload: { ms: 1 } });
    await log.waitFor(next, 'Done', 5000);
    await worker.waitForLine(line.msgStarts(`DONE ${next}`), `DONE ${next}`);
    expect(worker.linesStartingWith(`START ${id}`)).toHaveLength(1);
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Cancelled']);
    expect(await queue.history(id)).toEqual([]);
    expect(worker.exitInfo).toBeUndefined();
  });

  it('whose holder misses the control message: the request waits in Redis, its heartbeat reports it, and a retry or a recovery ends Cancelled', async () => {
    const { redis, keys, queue } = await setup('cancel-holder');
    const config = { queue: queue.name };
    const consumer = new Consumer({ ...config, id: `${queue.name}-holder`, connection: redis, logger: new CaptureLogger() });
    await consumer.register();
    await queue.enqueueMany([
      { id: `${queue.name}-a`, type: 'sleep', payload: { ms: 1 } },
      { id: `${queue.name}-b`, type: 'sleep', payload: { ms: 1 } },
    ]);
    const { tasks } = await consumer.fetch(['it-w-1', 'it-w-2']);
    const [a, b] = tasks;
    expect(tasks.map((t) => t.id)).toEqual([`${queue.name}-a`, `${queue.name}-b`]);

    // nobody listens on the control channel: cancel() reports the task still running
    for (const t of tasks) {
      expect(await queue.cancel(t.id, { waitMs: 200 })).toEqual({ id: t.id, outcome: 'running', status: 'InProgress', cancelled: false });
      expect(await whereIs(redis, keys, t.id)).toEqual(expect.arrayContaining(['cancels', keys.processing(consumer.id)]));
    }
    expect((await consumer.heartbeat()).cancelRequested.sort()).toEqual(tasks.map((t) => t.id).sort());

    // a: its handler failed anyway and would be retried; the pending cancel wins
    expect(await consumer.fail(a?.id ?? '', a?.worker ?? '', a?.token ?? '', { mode: 'retry', reason: 'boom', delayMs: 10 })).toBe('Cancelled');
    expect(await recorded(redis, keys, a?.id ?? '')).toMatchObject({ status: 'Cancelled', attempt: 1 });
    expect(await whereIs(redis, keys, a?.id ?? '')).toEqual(['cancelled']);

    // b: its holder dies; the janitor does not put a task whose cancel was requested back in the queue
    await redis.zadd(keys.consumers, Date.now() - 60_000, consumer.id);
    const pass = await new Janitor({ ...config, staleAfterMs: 5000, connection: redis, logger: new CaptureLogger() }).runOnce();
    expect(pass.ran).toBe(true);
    expect(await recorded(redis, keys, b?.id ?? '')).toMatchObject({ status: 'Cancelled', reason: 'cancelled; its worker stopped' });
    expect(await whereIs(redis, keys, b?.id ?? '')).toEqual(['cancelled']);
    expect(await queue.readyCount()).toBe(0);
  });
});

describe('cancelling a task that is not waiting or running', () => {
  it('a final task: outcome "final" with its status, nothing changes; an unknown id: "not-found"', async () => {
    const { redis, keys, queue } = await setup('cancel-final');
    const consumer = new Consumer({ queue: queue.name, connection: redis, logger: new CaptureLogger() });
    await consumer.register();
    await queue.enqueueMany([
      { id: `${queue.name}-done`, type: 'sleep', payload: { ms: 1 } },
      { id: `${queue.name}-dead`, type: 'sleep', payload: { ms: 1 } },
    ]);
    const [done, dead] = (await consumer.fetch(['w1', 'w2'])).tasks;
    expect(await consumer.ack(done?.id ?? '', 'w1', done?.token ?? '')).toBe(true);
    expect(await consumer.fail(dead?.id ?? '', 'w2', dead?.token ?? '', { mode: 'dead', reason: 'gave up' })).toBe('Dead');
    const before = await recordedMany(redis, keys, [done?.id ?? '', dead?.id ?? '']);

    expect(await queue.cancel(done?.id ?? '')).toEqual({ id: done?.id, outcome: 'final', status: 'Done', cancelled: false });
    expect(await queue.cancel(dead?.id ?? '')).toEqual({ id: dead?.id, outcome: 'final', status: 'Dead', cancelled: false });
    expect(await recordedMany(redis, keys, [done?.id ?? '', dead?.id ?? ''])).toEqual(before);
    expect(await queue.deadIds()).toEqual([dead?.id]);

    const unknown = `${queue.name}-nope`;
    expect(await queue.cancel(unknown)).toEqual({ id: unknown, outcome: 'not-found', status: undefined, cancelled: false });
    expect(await recorded(redis, keys, unknown)).toBeUndefined();
  });
});
