import { Queue, queueKeys, type QueueKeys, type RedisClient } from '@taskq/queue';
import { decodeStatusRecord, type StatusRecord } from '@taskq/recorder';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

interface Setup {
  readonly redis: RedisClient;
  readonly keys: QueueKeys;
  readonly worker: AppProcess;
  readonly consumer: string;
  readonly taskId: string;
}

/** A worker with one sub-worker, running one sleep task of `ms` (its START line has been seen). */
async function workerRunning(label: string, ms: number, extraArgs: readonly string[] = []): Promise<Setup> {
  const queue = newQueueName(label);
  const keys = queueKeys(queue);
  const redis = await clients.connect();
  const worker = AppProcess.start('worker', ['1', '--redis', testRedisUrl(), '--queue', queue, ...extraArgs]);
  const consumer = String((await worker.waitForLine(line.poolReady, 'the pool-ready line'))['consumer']);
  const { id: taskId } = await new Queue({ queue, connection: redis }).enqueue({ id: `${queue}-task`, type: 'sleep', payload: { ms } });
  await worker.waitForLine(line.msgStarts(`START ${taskId}`), `START ${taskId}`);
  return { redis, keys, worker, consumer, taskId };
}

async function recorded(redis: RedisClient, keys: QueueKeys, taskId: string): Promise<StatusRecord | undefined> {
  const raw = await redis.hget(keys.status, taskId);
  return raw === null ? undefined : decodeStatusRecord(raw);
}

describe('worker shutdown on SIGTERM', () => {
  it('lets the task in flight finish (Done, attempt 1), exits 0 and leaves the consumer registry', async () => {
    const { redis, keys, worker, consumer, taskId } = await workerRunning('term', 1500);
    expect(await redis.zscore(keys.consumers, consumer)).not.toBeNull();

    worker.signal('SIGTERM');
    const exit = await worker.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });

    expect(await recorded(redis, keys, taskId)).toMatchObject({ status: 'Done', attempt: 1 });
    expect(worker.lines.findIndex(line.msgStarts('SIGTERM: stopping'))).toBeLessThan(
      worker.lines.findIndex(line.msgStarts(`DONE ${taskId}`)),
    );
    const stopped = worker.lines.find(line.msgStarts('stopped:'));
    expect(stopped).toMatchObject({ finished: 1, released: 0 });
    // Nothing (a stray timer, an open connection) holds the process once it has stopped.
    expect(exit.at - (stopped?.receivedAt ?? 0)).toBeLessThan(1000);
    expect(await redis.zscore(keys.consumers, consumer)).toBeNull();
    expect(await redis.exists(keys.processing(consumer))).toBe(0);
    expect(await redis.llen(keys.ready)).toBe(0);
  });

  it('with --grace-ms 200, puts a 30 s task back in the ready list (Queued) and exits 0 at once', async () => {
    const { redis, keys, worker, consumer, taskId } = await workerRunning('grace', 30_000, ['--grace-ms', '200']);

    const signalledAt = Date.now();
    worker.signal('SIGTERM');
    const exit = await worker.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(3000);

    expect(await redis.lrange(keys.ready, 0, -1)).toEqual([taskId]);
    // A released attempt does not count: the counter goes back to 0.
    expect(await recorded(redis, keys, taskId)).toMatchObject({
      status: 'Queued',
      attempt: 0,
      reason: `worker ${consumer} stopped before the task finished`,
    });
    expect(worker.lines.find(line.msgStarts('stopped:'))).toMatchObject({ finished: 0, released: 1 });
    expect(worker.linesStartingWith(`DONE ${taskId}`)).toEqual([]);
    expect(await redis.zscore(keys.consumers, consumer)).toBeNull();
    expect(await redis.exists(keys.processing(consumer))).toBe(0);
  });

  it('stops at once on a second SIGTERM during the grace period, putting the task back', async () => {
    const { redis, keys, worker, consumer, taskId } = await workerRunning('twice', 30_000);

    worker.signal('SIGTERM');
    await worker.waitForLine(line.msgStarts('stopping: waiting up to 25000 ms for 1 task'), 'the grace-period line');
    expect(worker.exitInfo).toBeUndefined();
    const secondAt = Date.now();
    worker.signal('SIGTERM');
    const exit = await worker.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - secondAt).toBeLessThan(3000);

    expect(worker.lines.some(line.msgStarts('SIGTERM again: stopping now'))).toBe(true);
    expect(await redis.lrange(keys.ready, 0, -1)).toEqual([taskId]);
    expect(await recorded(redis, keys, taskId)).toMatchObject({ status: 'Queued', attempt: 0 });
    expect(worker.lines.find(line.msgStarts('stopped:'))).toMatchObject({ finished: 0, released: 1 });
    expect(await redis.zscore(keys.consumers, consumer)).toBeNull();
  });
});
