import type { Redis } from 'ioredis';
import { decodeStatusMessage, isFinalStatus, type StatusRecord } from '@taskq/recorder';
import { Queue, queueKeys } from '@taskq/queue';
import { WorkerPool } from './worker-pool';
import { MockRedis } from './test-support/mock-redis';
import { sleepTask } from './sleep-task';
import { UnrecoverableError } from './errors/unrecoverable-error';
import type { HandlerMap } from './handler';
import type { WorkerPoolOptions } from './options';

const config = { queue: 'fh' };
const k = queueKeys('fh');
const mocks = new MockRedis(40000);

function setup(handlers: HandlerMap, options: WorkerPoolOptions = {}) {
  const { make } = mocks.server();
  const redis = make();
  const pool = mocks.track(new WorkerPool({ ...config, connection: redis, concurrency: 2, idlePollMs: 50, ...options, handlers }));
  return { redis, queue: new Queue({ ...config, connection: redis }), pool, make };
}

/** Every status record of `id` as published, until it is final. */
function history(subscriber: Redis, id: string): Promise<StatusRecord[]> {
  const seen: StatusRecord[] = [];
  return new Promise((resolve) => {
    subscriber.on('message', (_c: string, msg: string) => {
      for (const rec of decodeStatusMessage(msg)) {
        if (rec.id !== id) continue;
        seen.push(rec);
        if (isFinalStatus(rec.status)) resolve(seen);
      }
    });
    void subscriber.subscribe(k.events);
  });
}

afterEach(() => mocks.cleanup());

describe('WorkerPool failure handling (ioredis-mock)', () => {
  it('retries a failed attempt after the backoff and ends Done', async () => {
    const { queue, pool, make } = setup({ sleep: sleepTask });
    const seen = history(make(), 'once');
    await pool.start();
    await queue.enqueue({ id: 'once', type: 'sleep', payload: { ms: 1, failAttempts: 1 }, backoff: { type: 'fixed', delayMs: 0 } });
    const statuses = (await seen).map((r) => `${r.status}@${r.attempt}`);
    expect(statuses).toEqual(['Queued@0', 'InProgress@1', 'Retrying@1', 'Queued@1', 'InProgress@2', 'Done@2']);
  });

  it('uses a custom backoff strategy registered on the pool', async () => {
    const calls: number[] = [];
    const { queue, pool, make } = setup(
      { sleep: sleepTask },
      { backoffStrategies: { tracked: (attempt) => (calls.push(attempt), 0) } },
    );
    const seen = history(make(), 'c');
    await pool.start();
    await queue.enqueue({ id: 'c', type: 'sleep', payload: { ms: 1, failAttempts: 2 }, backoff: { type: 'custom', name: 'tracked' } });
    expect((await seen).at(-1)?.status).toBe('Done');
    expect(calls).toEqual([1, 2]);
  });

  it('sends a task that throws UnrecoverableError straight to the dead-letter list', async () => {
    const { queue, pool, make } = setup({
      bad: () => {
        throw new UnrecoverableError('input can never work');
      },
    });
    const seen = history(make(), 'u');
    await pool.start();
    await queue.enqueue({ id: 'u', type: 'bad', maxAttempts: 5 });
    const last = (await seen).at(-1);
    expect(last).toMatchObject({ status: 'Dead', attempt: 1, reason: 'UnrecoverableError: input can never work' });
    expect(await queue.deadIds()).toEqual(['u']);
  });

  it('times out an attempt: the signal fires and the attempt fails with the timeout reason', async () => {
    let aborted: unknown;
    const { queue, pool, make } = setup({
      hang: (_t, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            reject(signal.reason);
          });
        }),
    });
    const seen = history(make(), 'slow');
    await pool.start();
    await queue.enqueue({ id: 'slow', type: 'hang', timeoutMs: 100, maxAttempts: 1 });
    const last = (await seen).at(-1);
    expect(last).toMatchObject({ status: 'Dead', reason: expect.stringContaining('timed out after 100 ms') as unknown });
    expect((aborted as Error).name).toBe('TaskTimeoutError');
  });

  it('cancels a running task through the control channel: the handler is aborted and the task ends Cancelled, not retried', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const { queue, pool, make } = setup({
      long: (task, ctx) => {
        started();
        return sleepTask({ ...task, payload: { ms: 60_000 } }, ctx);
      },
    });
    const seen = history(make(), 'x');
    await pool.start();
    await queue.enqueue({ id: 'x', type: 'long', maxAttempts: 3 });
    await running;
    const result = await queue.cancel('x', { waitMs: 5000 });
    expect(result).toEqual({ id: 'x', outcome: 'cancelled', status: 'Cancelled', cancelled: true });
    expect((await seen).map((r) => r.status)).toEqual(['Queued', 'InProgress', 'Cancelled']);
    expect(await queue.delayedCount()).toBe(0);
    expect(await queue.readyCount()).toBe(0);
  });
});
