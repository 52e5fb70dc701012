import type { Redis } from 'ioredis';
import { decodeStatusMessage, isFinalStatus, type StatusRecord } from '@taskq/recorder';
import { Queue, queueKeys, type JsonValue } from '@taskq/queue';
import { WorkerPool } from './worker-pool';
import { MockRedis } from './test-support/mock-redis';
import { sleepTask } from './sleep-task';
import type { HandlerMap } from './handler';
import type { WorkerPoolOptions } from './options';
import { resolvePoolOptions } from './options';

const config = { queue: 'res' };
const k = queueKeys('res');
const mocks = new MockRedis(50000);

function setup(handlers: HandlerMap, options: WorkerPoolOptions = {}) {
  const { make } = mocks.server();
  const redis = make();
  const pool = mocks.track(new WorkerPool({ ...config, connection: redis, concurrency: 1, idlePollMs: 50, ...options, handlers }));
  return { redis, queue: new Queue({ ...config, connection: redis }), pool, make };
}

/** The final status record of each of `ids`, as published. */
function finals(subscriber: Redis, ids: readonly string[]): Promise<Map<string, StatusRecord>> {
  const out = new Map<string, StatusRecord>();
  return new Promise((resolve) => {
    subscriber.on('message', (_c: string, msg: string) => {
      for (const rec of decodeStatusMessage(msg)) {
        if (ids.includes(rec.id) && isFinalStatus(rec.status)) out.set(rec.id, rec);
      }
      if (out.size === ids.length) resolve(out);
    });
    void subscriber.subscribe(k.events);
  });
}

afterEach(() => mocks.cleanup());

describe('WorkerPool: a handler\'s return value is the task\'s result (ioredis-mock)', () => {
  it('stores what a handler returns or resolves to with its Done record; undefined stores nothing', async () => {
    const { redis, queue, pool, make } = setup({
      sync: (task) => ({ echo: task.payload }),
      async: async () => Promise.resolve([1, 'two']),
      nothing: () => undefined,
      nul: () => null,
      text: () => 'plain',
      sleep: sleepTask,
    });
    const ids = ['sync', 'async', 'nothing', 'nul', 'text', 'sleep'];
    const seen = finals(make(), ids);
    await pool.start();
    const payloadOf = (id: string): JsonValue => (id === 'sleep' ? { ms: 3 } : { n: 7 });
    await queue.enqueueMany(ids.map((id) => ({ id, type: id, payload: payloadOf(id) })));
    const records = await seen;
    expect(ids.map((id) => records.get(id)?.status)).toEqual(ids.map(() => 'Done'));
    expect(await queue.result('sync')).toEqual({ echo: { n: 7 } });
    expect(await queue.result('async')).toEqual([1, 'two']);
    expect(await queue.result('nothing')).toBeUndefined();
    expect(await queue.result('nul')).toBeNull();
    expect(await queue.result('text')).toBe('plain');
    expect(await queue.result('sleep')).toEqual({ sleptMs: 3 });
    expect(await redis.hkeys(k.results)).toEqual(expect.arrayContaining(['sync', 'async', 'nul', 'text', 'sleep']));
    expect(await redis.hlen(k.results)).toBe(5);
  });

  it('a result larger than maxResultBytes, or not JSON, makes the task Failed (not retried) with the reason; the next task runs', async () => {
    const { redis, queue, pool, make } = setup(
      {
        big: () => ({ text: 'x'.repeat(200) }),
        bigint: async () => Promise.resolve({ n: 1n }),
        fn: () => () => 1,
        fine: () => ({ text: 'x'.repeat(80) }),
      },
      { maxResultBytes: 100 },
    );
    const ids = ['big', 'bigint', 'fn', 'fine'];
    const seen = finals(make(), ids);
    await pool.start();
    // one at a time (concurrency 1), in this order: each failure is followed by a task that runs
    await queue.enqueueMany(ids.map((id) => ({ id, type: id, maxAttempts: 3 })));
    const records = await seen;
    expect(records.get('big')).toMatchObject({ status: 'Failed', attempt: 1, reason: 'result of 211 bytes is larger than maxResultBytes (100)' });
    expect(records.get('bigint')).toMatchObject({ status: 'Failed', attempt: 1, reason: 'result is not JSON: Do not know how to serialize a BigInt' });
    // a function is a thenable candidate: Promise.resolve adopts it as the value, which has no JSON form
    expect(records.get('fn')).toMatchObject({ status: 'Failed', attempt: 1, reason: 'result is not JSON: a function has no JSON form' });
    expect(records.get('fine')).toMatchObject({ status: 'Done' });
    expect(await queue.result('fine')).toEqual({ text: 'x'.repeat(80) });
    expect(await redis.hkeys(k.results)).toEqual(['fine']);
    expect(await queue.rejectedIds()).toEqual(expect.arrayContaining(['big', 'bigint', 'fn']));
    expect(pool.currentState).toBe('running');
  });

  it('maxResultBytes defaults to 64 KiB and must be a whole number >= 1', () => {
    expect(resolvePoolOptions({}).maxResultBytes).toBe(65536);
    expect(resolvePoolOptions({ maxResultBytes: 10 }).maxResultBytes).toBe(10);
    for (const bad of [0, -1, 1.5, NaN]) expect(() => resolvePoolOptions({ maxResultBytes: bad })).toThrow(/^maxResultBytes must be a whole number >= 1, got /);
  });
});
