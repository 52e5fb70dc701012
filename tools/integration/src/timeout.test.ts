import { Queue, queueKeys } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { InProcessPools } from './test-support/in-process-pool';
import { whereIs } from './test-support/queue-state';
import { recorded } from './test-support/recorded';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { StatusLog } from './test-support/status-log';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();
const pools = new InProcessPools();
const logs: StatusLog[] = [];

afterEach(async () => {
  await killAllApps();
  await pools.stopAll();
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

const TIMED_OUT = 'TaskTimeoutError: timed out after 300 ms';

describe('a task that runs past its timeoutMs (worker process)', () => {
  it('with maxAttempts 1: aborted after 300 ms and Dead with a "timed out" reason, well before its 5 s would end; the worker runs the next task', async () => {
    const { queue, log } = await setup('timeout');
    const worker = await startWorker(queue.name);
    const [slow, next] = await queue.enqueueMany([
      { id: `${queue.name}-slow`, type: 'sleep', payload: { ms: 5000 }, timeoutMs: 300, maxAttempts: 1 },
      { id: `${queue.name}-next`, type: 'sleep', payload: { ms: 1 } },
    ]);
    const slowId = slow?.id ?? '';
    const enqueuedAt = Date.now();

    const dead = await log.waitFor(slowId, 'Dead', 5000);
    const started = log.of(slowId).find((r) => r.status === 'InProgress');
    expect(dead).toMatchObject({ attempt: 1, reason: `${TIMED_OUT} (attempt 1 of 1)` });
    expect(dead.at - (started?.at ?? 0)).toBeGreaterThanOrEqual(300);
    expect(dead.at - (started?.at ?? 0)).toBeLessThan(1500);
    expect(dead.receivedAt - enqueuedAt).toBeLessThan(2500);
    expect(await queue.deadIds()).toEqual([slowId]);
    const history = await queue.history(slowId);
    expect(history).toEqual([expect.objectContaining({ attempt: 1, error: TIMED_OUT })]);
    expect(history[0]?.stack).toMatch(/^TaskTimeoutError: timed out after 300 ms\n\s+at /);

    // the one sub-worker is free again at once: the next task does not wait for the 5 s
    const nextDone = await log.waitFor(next?.id ?? '', 'Done', 3000);
    expect(nextDone.receivedAt - enqueuedAt).toBeLessThan(3000);
    await worker.waitForLine(line.msgStarts(`DONE ${next?.id ?? ''}`), 'DONE of the next task');
    expect(worker.linesStartingWith(`FAILED ${slowId}`).map((l) => l.msg)).toEqual([
      expect.stringMatching(/: TaskTimeoutError: timed out after 300 ms -> Dead$/),
    ]);
    expect(worker.linesStartingWith(`DONE ${slowId}`)).toEqual([]);
  });

  it('with maxAttempts 2: Retrying after the first timeout, then Dead after the second', async () => {
    const { redis, keys, queue, log } = await setup('timeout-retry');
    const worker = await startWorker(queue.name);
    const { id } = await queue.enqueue({
      id: `${queue.name}-slow`,
      type: 'sleep',
      payload: { ms: 5000 },
      timeoutMs: 300,
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs: 100 },
    });

    const retrying = await log.waitFor(id, 'Retrying', 3000);
    expect(retrying).toMatchObject({ attempt: 1, reason: TIMED_OUT });
    expect(retrying.runAt).toBe(retrying.at + 100);
    const dead = await log.waitFor(id, 'Dead', 3000);
    expect(dead).toMatchObject({ attempt: 2, reason: `${TIMED_OUT} (attempt 2 of 2)` });
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Dead']);
    expect((await queue.history(id)).map((h) => [h.attempt, h.error])).toEqual([
      [1, TIMED_OUT],
      [2, TIMED_OUT],
    ]);
    await worker.waitForLines(line.msgStarts(`FAILED ${id}`), 2, `two FAILED ${id} lines`);
    expect(worker.linesStartingWith(`START ${id}`).map((l) => l['attempt'])).toEqual([1, 2]);
    expect(await whereIs(redis, keys, id)).toEqual(['dead']);
  });
});

describe('a handler that ignores its aborted signal (library pool in this process)', () => {
  it('is timed out anyway, and its late success does not turn the recorded Dead into Done', async () => {
    const { redis, keys, queue, log } = await setup('timeout-deaf');
    let finishedLate = false;
    let sawAbort = false;
    await pools.start({ queue: queue.name }, {
      deaf: async (_task, { signal }) => {
        signal.addEventListener('abort', () => {
          sawAbort = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 800));
        finishedLate = true;
      },
      ok: () => undefined,
    });
    const { id } = await queue.enqueue({ id: `${queue.name}-deaf`, type: 'deaf', timeoutMs: 200, maxAttempts: 1 });
    const dead = await log.waitFor(id, 'Dead', 3000);
    expect(dead.reason).toBe('TaskTimeoutError: timed out after 200 ms (attempt 1 of 1)');
    expect(finishedLate).toBe(false);
    expect(sawAbort).toBe(true);

    await waitUntil(() => finishedLate, { timeoutMs: 3000, what: 'the deaf handler to resolve' });
    // a task run by the same pool after that resolution: anything the late success
    // might have written would be recorded before this one is Done
    const { id: marker } = await queue.enqueue({ id: `${queue.name}-marker`, type: 'ok' });
    await log.waitFor(marker, 'Done', 3000);
    const { receivedAt: _, ...deadRecord } = dead;
    expect(await recorded(redis, keys, id)).toEqual(deadRecord);
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Dead']);
  });
});

describe('a timeoutMs longer than a Node timer can hold (library pool in this process)', () => {
  it('30 days: the task is not timed out at once, it runs to Done', async () => {
    const { queue, log } = await setup('timeout-long');
    await pools.start({ queue: queue.name }, { work: () => new Promise((resolve) => setTimeout(resolve, 100)) });
    const { id } = await queue.enqueue({ id: `${queue.name}-long`, type: 'work', timeoutMs: 30 * 24 * 3600 * 1000, maxAttempts: 1 });
    const final = await log.waitFor(id, (r) => r.status === 'Done' || r.status === 'Dead', 3000);
    expect(final).toMatchObject({ status: 'Done', attempt: 1 });
  });
});
