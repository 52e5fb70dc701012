import type { Redis } from 'ioredis';
import { decodeStatusMessage, decodeStatusRecord, silentLogger, type StatusRecord } from '@taskq/recorder';
import { Queue, queueKeys, type AckItem } from '@taskq/queue';
import { WorkerPool } from './worker-pool';
import { MockRedis } from './test-support/mock-redis';
import { sleepTask } from './sleep-task';
import type { HandlerMap } from './handler';
import type { WorkerPoolOptions } from './options';
import { waitFor } from './test-support/wait-for';

const config = { queue: 'pool' };
const k = queueKeys('pool');
const mockRedis = new MockRedis(30000);

/** Connections to one fresh in-memory Redis (a port of its own). */
function mocks(): { p: number; make: () => Redis } {
  return mockRedis.server();
}

/**
 * A connection factory for a pool, and a promise that settles once the first
 * connection it made (the pool's wake subscriber) is ready and the pool has
 * seen it (its 'ready' counts as a wake without a count).
 */
function subscriberWatch(make: () => Redis): { factory: () => Redis; ready: Promise<void> } {
  let subscriberReady!: () => void;
  const ready = new Promise<void>((resolve) => (subscriberReady = resolve));
  let made = 0;
  const factory = (): Redis => {
    const r = make();
    if (made++ === 0) r.once('ready', () => setImmediate(subscriberReady));
    return r;
  };
  return { factory, ready };
}

/** A pool on a mock client whose subscriber connections (its duplicate()s) come from `factory`. */
function poolOn(redis: Redis, factory: () => Redis, options: WorkerPoolOptions): WorkerPool {
  redis.duplicate = factory;
  return mockRedis.track(new WorkerPool({ ...config, connection: redis, ...options }));
}

function setup(handlers: HandlerMap, concurrency = 2, graceMs = 5000, idlePollMs = 50) {
  const { p, make } = mocks();
  const redis = make();
  const queue = new Queue({ ...config, connection: redis });
  const pool = poolOn(redis, make, { consumerId: `c-${p}`, concurrency, graceMs, idlePollMs, handlers });
  return { redis, queue, consumer: pool.consumer, pool, make };
}

/** Resolves when every id has a final status, from the status channel (and a first read). */
async function waitFinal(redis: Redis, subscriber: Redis, ids: string[]): Promise<Map<string, StatusRecord>> {
  const final = new Map<string, StatusRecord>();
  return new Promise((resolve) => {
    const check = (rec: StatusRecord) => {
      if (['Done', 'Failed', 'Dead', 'Cancelled'].includes(rec.status)) final.set(rec.id, rec);
      if (ids.every((id) => final.has(id))) resolve(final);
    };
    // status messages are arrays (progress and queue events are objects)
    subscriber.on('message', (_c: string, msg: string) => msg.startsWith('[') && decodeStatusMessage(msg).forEach(check));
    void subscriber.subscribe(k.events).then(async () => {
      for (const raw of await redis.hmget(k.status, ...ids)) if (raw) check(decodeStatusRecord(raw));
    });
  });
}

afterEach(() => mockRedis.cleanup());

describe('WorkerPool (ioredis-mock)', () => {
  it('says when its heartbeats cannot come from a thread (an in-memory client), and says nothing when told to beat from the main thread', async () => {
    const infos: string[] = [];
    const logger = { ...silentLogger, info: (a: object | string, msg?: string) => void infos.push(typeof a === 'string' ? a : (msg ?? '')) };
    logger.child = () => logger;
    const { make } = mocks();
    const defaulted = poolOn(make(), make, { logger });
    await defaulted.start();
    expect(infos.filter((m) => m.startsWith('heartbeats from the main thread: a thread cannot open this connection'))).toHaveLength(1);
    await defaulted.stop(0);
    infos.length = 0;
    const told = poolOn(make(), make, { logger, heartbeat: 'main' });
    await told.start();
    expect(infos.filter((m) => m.startsWith('heartbeats from the main thread'))).toEqual([]);
  });

  it("refuses a heartbeat interval above half its janitor's stale limit (one late beat would make it look dead)", () => {
    const make = (heartbeatMs: number, janitor: WorkerPoolOptions['janitor']) => () => new WorkerPool({ queue: 'hb-limit', connection: 'redis://127.0.0.1:1', heartbeatMs, janitor });
    expect(make(3000, {})).toThrow(new RangeError("heartbeatMs (3000) must be at most half the janitor's staleAfterMs (5000), or live workers are taken for dead ones"));
    expect(make(2600, { staleAfterMs: 5000 })).toThrow(RangeError);
    expect(make(2500, {})).not.toThrow();
    expect(make(5000, { staleAfterMs: 10_000 })).not.toThrow();
    expect(make(3000, false)).not.toThrow(); // no janitor here: its limit is set where it runs
  });

  it('runs tasks concurrently and records Done for each', async () => {
    let concurrent = 0;
    let peak = 0;
    const { redis, queue, pool, make } = setup(
      {
        work: async (task, ctx) => {
          concurrent++;
          peak = Math.max(peak, concurrent);
          await sleepTask(task, ctx);
          concurrent--;
        },
      },
      3,
    );
    const ids = Array.from({ length: 6 }, (_, i) => `t${i}`);
    const done = waitFinal(redis, make(), ids);
    await pool.start();
    await queue.enqueueMany(ids.map((id) => ({ id, type: 'work', payload: { ms: 30 } })));
    const final = await done;
    expect([...final.values()].map((r) => r.status)).toEqual(Array(6).fill('Done'));
    expect(peak).toBe(3);
    expect(new Set([...final.values()].map((r) => r.worker)).size).toBe(3);
  });

  it('an idle pool starts a newly enqueued task at once, woken by the wake channel rather than a poll', async () => {
    // the fallback poll is a minute away: only the wake message can start the task within the test
    const { redis, queue, pool, make } = setup({ quick: () => undefined }, 1, 5000, 60_000);
    await pool.start();
    // let the pool go idle (its first fetch finds nothing)
    await new Promise<void>((resolve) => setImmediate(resolve));
    const done = waitFinal(redis, make(), ['w1']);
    const enqueued = Date.now();
    await queue.enqueue({ id: 'w1', type: 'quick' });
    const final = await done;
    expect(final.get('w1')?.status).toBe('Done');
    expect(Date.now() - enqueued).toBeLessThan(2000);
  });

  it('after the queue ran dry, asks for as many tasks as the wake messages announce, not one per idle sub-worker', async () => {
    const { p, make } = mocks();
    const redis = make();
    const queue = new Queue({ ...config, connection: redis });
    const { factory, ready } = subscriberWatch(make);
    // 8 sub-workers: a share of 4 per round trip; the fallback poll is a minute away
    const pool = poolOn(redis, factory, { consumerId: `c-${p}`, concurrency: 8, idlePollMs: 60_000, handlers: { quick: () => undefined } });
    const consumer = pool.consumer;
    const fetches: { asked: number; got: string[] }[] = [];
    let started = 0;
    let finished = 0;
    const exchange = consumer.exchange.bind(consumer);
    jest.spyOn(consumer, 'exchange').mockImplementation(async (acks, workers) => {
      started++;
      try {
        const result = await exchange(acks, workers);
        if (workers.length > 0) fetches.push({ asked: workers.length, got: result.tasks.map((t) => t.id) });
        return result;
      } finally {
        finished++;
      }
    });
    /** Until no round trip is in flight and nothing is left ready. */
    const quiet = (): Promise<void> =>
      waitFor(() => `the pool to settle: ${JSON.stringify(fetches)}`, async () => started === finished && (await redis.llen(k.ready)) === 0, { pollMs: 0 });
    await pool.start();
    await ready;
    await quiet();
    const before = fetches.length;
    expect(before).toBeGreaterThan(0);
    expect(fetches.every((f) => f.got.length === 0)).toBe(true);

    const done = waitFinal(redis, make(), ['a', 'b', 'c', 'd']);
    await queue.enqueue({ id: 'a', type: 'quick' }); // announces 1
    await waitFinal(redis, make(), ['a']);
    await quiet();
    await queue.enqueueMany(['b', 'c', 'd'].map((id) => ({ id, type: 'quick' }))); // announces 3
    expect([...(await done).values()].map((r) => r.status)).toEqual(['Done', 'Done', 'Done', 'Done']);
    await quiet();
    // a wake message without a count (a reconnect is another): the full share again
    await redis.publish(k.wake, 'something');
    await waitFor(() => `a fetch after the message: ${JSON.stringify(fetches)}`, () => fetches.length >= before + 3, { pollMs: 0 });
    await quiet();
    // one fetch per wake, each asking for what its wake announced; the acks went on their own
    expect(fetches.slice(before)).toEqual([
      { asked: 1, got: ['a'] },
      { asked: 3, got: ['b', 'c', 'd'] },
      { asked: 4, got: [] },
    ]);
  });

  /**
   * A pool of 8 sub-workers (a share of 4) whose fetches the test answers:
   * at once (the queue emptied) until `hold()`, then only when told.
   */
  async function poolWithHeldFetches(idlePollMs: number) {
    const { p, make } = mocks();
    const redis = make();
    const { factory, ready } = subscriberWatch(make);
    const pool = poolOn(redis, factory, { consumerId: `c-${p}`, concurrency: 8, idlePollMs });
    const consumer = pool.consumer;
    const held: { asked: number; answer: (readyLeft: number) => void }[] = [];
    let holding = false;
    const reply = (readyLeft: number) => ({ acks: [], tasks: [], nextDueInMs: undefined, readyLeft, paused: false });
    jest.spyOn(consumer, 'exchange').mockImplementation((_acks, workers) => {
      if (!holding) return Promise.resolve(reply(0));
      return new Promise((resolve) => held.push({ asked: workers.length, answer: (left) => resolve(reply(left)) }));
    });
    await pool.start();
    await ready;
    await turns(); // the start's fetches and the reconnect wake's are over: the pool is dry
    return {
      redis,
      held,
      hold: () => (holding = true),
      /** Answers every fetch held and the ones to come (stop() waits for them). */
      release: () => {
        holding = false;
        for (const h of held) h.answer(0);
      },
      heldCount: (n: number): Promise<void> =>
        waitFor(() => `${n} held fetches, got ${JSON.stringify(held.map((h) => h.asked))}`, () => held.length >= n, { pollMs: 0 }),
    };
  }

  /** Lets the event loop turn `n` times (the pool's loop reacts within a few). */
  async function turns(n = 20): Promise<void> {
    for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
  }

  it('a late reply of an older fetch does not undo what a newer fetch answered: no second fetch for the same wake', async () => {
    const { redis, held, hold, release, heldCount } = await poolWithHeldFetches(60_000);
    hold();
    try {
      await redis.publish(k.wake, '1');
      await heldCount(1); // F0 asks for the announced task ...
      held[0].answer(5); // ... and says more are ready: not dry, so both shares go out
      await heldCount(3);
      expect(held.map((h) => h.asked)).toEqual([1, 4, 4]);
      held[1].answer(0); // F1 emptied the list: dry
      await redis.publish(k.wake, '1');
      await heldCount(4); // F3 answers the new wake
      held[2].answer(0); // F2, sent before that wake, comes back late
      await turns();
      // no fetch went for the wake F3 answers
      expect(held.map((h) => h.asked)).toEqual([1, 4, 4, 1]);
      held[3].answer(0);
      await turns();
      expect(held).toHaveLength(4);
    } finally {
      release();
    }
  });

  it('a dry pool whose fetch never answers asks again after the poll interval', async () => {
    const { held, hold, release, heldCount } = await poolWithHeldFetches(100);
    hold();
    try {
      await heldCount(1); // the next poll's fetch never answers (a half-open connection, say)
      await heldCount(2); // the poll interval later, another one goes, with the next share
      expect(held.map((h) => h.asked)).toEqual([4, 4]);
    } finally {
      release();
    }
  });

  it('records handler throws, non-Error throws and rejections as Dead after the last attempt, unknown types and bad JSON as Failed, and keeps running', async () => {
    const { redis, queue, pool, make } = setup({
      boom: () => {
        throw new Error('kaput');
      },
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a non-Error rejection is what this case tests
      weird: () => Promise.reject({ code: 7 }),
      ok: () => undefined,
    });
    await redis.hset(k.tasks, 'bad', 'not json');
    await redis.lpush(k.ready, 'bad');
    const ids = ['bad', 'a', 'b', 'c', 'd'];
    const done = waitFinal(redis, make(), ids);
    await pool.start();
    await queue.enqueueMany([
      { id: 'a', type: 'boom', maxAttempts: 1 },
      { id: 'b', type: 'weird', maxAttempts: 1 },
      { id: 'c', type: 'nobody-handles-this' },
      { id: 'd', type: 'ok' },
    ]);
    const final = await done;
    expect(final.get('bad')).toMatchObject({ status: 'Failed', reason: expect.stringMatching(/not valid JSON/) as unknown });
    expect(final.get('a')).toMatchObject({ status: 'Dead', reason: 'kaput (attempt 1 of 1)' });
    expect(final.get('b')).toMatchObject({ status: 'Dead', reason: 'non-Error thrown: {"code":7} (attempt 1 of 1)' });
    expect(final.get('c')).toMatchObject({ status: 'Failed', reason: 'no handler for task type "nobody-handles-this"' });
    expect(final.get('d')).toMatchObject({ status: 'Done' });
    expect(new Set(await queue.rejectedIds())).toEqual(new Set(['bad', 'c']));
    expect(new Set(await queue.deadIds())).toEqual(new Set(['a', 'b']));
  });

  it('on stop, waits for in-flight tasks within the grace period', async () => {
    let release!: () => void;
    const started = new Promise<void>((r) => (release = r));
    const { redis, queue, pool } = setup({
      slow: async (task, ctx) => {
        release();
        await sleepTask(task, ctx);
      },
    });
    await pool.start();
    await queue.enqueue({ id: 's', type: 'slow', payload: { ms: 100 } });
    await started;
    const result = await pool.stop(5000);
    expect(result).toEqual({ finished: 1, released: 0 });
    expect(decodeStatusRecord((await redis.hget(k.status, 's'))!).status).toBe('Done');
    expect(await redis.zcard(k.consumers)).toBe(0);
  });

  it('aborts and puts back tasks that outlive the grace period', async () => {
    let signalled: AbortSignal | undefined;
    let begin!: () => void;
    const started = new Promise<void>((r) => (begin = r));
    const { redis, queue, pool } = setup({
      forever: (_task, ctx) => {
        signalled = ctx.signal;
        begin();
        return new Promise(() => undefined); // ignores its signal on purpose
      },
    });
    await pool.start();
    await queue.enqueue({ id: 'f', type: 'forever' });
    await started;
    const result = await pool.stop(50);
    expect(result).toEqual({ finished: 0, released: 1 });
    expect(signalled?.aborted).toBe(true);
    const rec = decodeStatusRecord((await redis.hget(k.status, 'f'))!);
    expect(rec.status).toBe('Queued');
    expect(await redis.lrange(k.ready, 0, -1)).toEqual(['f']);
  });

  it('a forced stop does not put back a task whose handler is over and whose ack is on its way: the ack lands, the task is Done', async () => {
    let begin!: () => void;
    const started = new Promise<void>((r) => (begin = r));
    let finish!: () => void;
    const { redis, queue, pool, consumer } = setup({ quick: () => (begin(), new Promise<void>((r) => (finish = r))) });
    // a slow Redis for the acks that go on their own once the loop has ended: held until the test lets go
    let letAcksGo!: () => void;
    const acksHeld = new Promise<void>((r) => (letAcksGo = r));
    let ackSent!: () => void;
    const ackOnItsWay = new Promise<void>((r) => (ackSent = r));
    const ackMany = consumer.ackMany.bind(consumer);
    consumer.ackMany = async (items: readonly AckItem[]) => {
      ackSent();
      await acksHeld;
      return ackMany(items);
    };
    await pool.start();
    await queue.enqueue({ id: 'q', type: 'quick' });
    await started;
    const stopping = pool.stop(60_000);
    finish(); // the handler is over: its ack goes on its own...
    await ackOnItsWay; // ...and is held
    const forced = pool.stop(0); // the grace period ends now
    letAcksGo();
    expect(await forced).toEqual({ finished: 1, released: 0 });
    expect(await stopping).toEqual({ finished: 1, released: 0 });
    expect(decodeStatusRecord((await redis.hget(k.status, 'q'))!).status).toBe('Done');
    expect(await redis.lrange(k.ready, 0, -1)).toEqual([]);
  });

  it('a second stop(0) during the grace period ends it at once', async () => {
    let begin!: () => void;
    const started = new Promise<void>((r) => (begin = r));
    const { redis, queue, pool } = setup({ long: (t, ctx) => (begin(), sleepTask(t, ctx)) });
    await pool.start();
    await queue.enqueue({ id: 'l', type: 'long', payload: { ms: 60_000 } });
    await started;
    const first = pool.stop(60_000);
    const second = pool.stop(0);
    expect(await second).toEqual({ finished: 0, released: 1 });
    expect(await first).toEqual({ finished: 0, released: 1 });
    expect(await redis.lrange(k.ready, 0, -1)).toEqual(['l']);
  });
});
