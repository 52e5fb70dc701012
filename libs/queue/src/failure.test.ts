import { decodeStatusRecord, type StatusRecord } from '@taskq/recorder';
import { queueKeys } from './keys';
import type { Redis } from 'ioredis';
import { Consumer } from './consumer';
import { Janitor } from './janitor';
import { Queue } from './queue';
import { InvalidTaskError } from './errors/invalid-task-error';
import { closeMocks, mockRedis } from './test-support/mock-redis';

const k = queueKeys('fail');

async function status(redis: Redis, id: string): Promise<StatusRecord | undefined> {
  const raw = await redis.hget(k.status, id);
  return raw ? decodeStatusRecord(raw) : undefined;
}

function setup(retention?: { deadMax?: number; maxCount?: number; maxAgeMs?: number }) {
  const { redis } = mockRedis();
  const config = { queue: 'fail', ...(retention ? { retention } : {}) };
  return { redis, queue: new Queue({ ...config, connection: redis }), consumer: new Consumer({ ...config, id: 'c', connection: redis }), config };
}

describe('failure semantics in the queue scripts (ioredis-mock)', () => {
  afterEach(closeMocks);

  it('a token is <seq>:<attempt> of its fetch and holds the count while the task is held; release puts the count back; Done takes it from the token', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueue({ id: 'r', type: 't', maxAttempts: 3 });
    let [t] = (await consumer.fetch(['w'])).tasks;
    const first = await status(redis, 'r');
    expect(t.token).toBe(`${first!.seq}:1`);
    expect(await consumer.fail('r', 'w', t.token, { mode: 'retry', reason: 'boom', delayMs: 0 })).toBe('Retrying');
    expect(await redis.hget(k.attempts, 'r')).toBe('1');
    const deadline = Date.now() + 3000; // the mock's TIME may step back: fetch until the retry is due
    for (;;) {
      [t] = (await consumer.fetch(['w2'])).tasks;
      if (t !== undefined || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const second = await status(redis, 'r');
    expect(second).toMatchObject({ status: 'InProgress', attempt: 2, worker: 'w2' });
    expect(t.token).toBe(`${second!.seq}:2`);
    // while held, the count is in the token only
    expect(await redis.hexists(k.attempts, 'r')).toBe(0);
    // released (a stopping worker): the attempt does not count, the count goes back to the hash
    expect(await consumer.release(['r'], 'stopping')).toBe(1);
    expect(await status(redis, 'r')).toMatchObject({ status: 'Queued', attempt: 1 });
    expect(await redis.hget(k.attempts, 'r')).toBe('1');
    [t] = (await consumer.fetch(['w2'])).tasks;
    expect(t).toMatchObject({ id: 'r', attempt: 2 });
    expect(await redis.hexists(k.attempts, 'r')).toBe(0);
    expect(await consumer.ack('r', 'w2', t.token)).toBe(true);
    expect(await status(redis, 'r')).toMatchObject({ status: 'Done', attempt: 2, worker: 'w2' });
    expect(await redis.hexists(k.attempts, 'r')).toBe(0);
    expect(await redis.hexists(k.fence, 'r')).toBe(0);
  });

  it('retry puts the task in the delayed set as Retrying; dead puts it in the dead-letter list with its history', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueue({ id: 'r', type: 't', maxAttempts: 2 });
    let [t] = (await consumer.fetch(['w'])).tasks;
    const history = { attempt: 1, at: Date.now(), worker: 'w', error: 'boom', stack: 'Error: boom\n    at x' };
    expect(await consumer.fail('r', 'w', t.token, { mode: 'retry', reason: 'boom', delayMs: 0, history })).toBe('Retrying');
    const rec = await status(redis, 'r');
    expect(rec).toMatchObject({ status: 'Retrying', reason: 'boom', attempt: 1 });
    expect(typeof rec?.runAt).toBe('number');
    expect(await queue.delayedCount()).toBe(1);
    // due at once: a fetch promotes it (Queued) and hands it out again. The
    // mock's TIME rounds its seconds and may step back up to a second, so
    // fetch until Redis's clock has reached the due time.
    const deadline = Date.now() + 3000;
    for (;;) {
      [t] = (await consumer.fetch(['w'])).tasks;
      if (t !== undefined || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(t).toMatchObject({ id: 'r', attempt: 2 });
    expect(await consumer.fail('r', 'w', t.token, { mode: 'dead', reason: 'boom again', history: { ...history, attempt: 2 } })).toBe('Dead');
    expect(await queue.deadIds()).toEqual(['r']);
    // an ended task's count is in its record only: the attempts hash keeps tasks that will run again
    expect(await status(redis, 'r')).toMatchObject({ status: 'Dead', attempt: 2 });
    expect(await redis.exists(k.attempts)).toBe(0);
    const letter = await queue.deadLetter('r');
    expect(letter.status).toMatchObject({ status: 'Dead', reason: 'boom again' });
    expect(letter.history.map((h) => h.attempt)).toEqual([1, 2]);
    expect(letter.history[0]).toMatchObject({ error: 'boom', stack: expect.stringContaining('Error: boom') as unknown });
    expect(letter.task).toMatchObject({ id: 'r', type: 't', maxAttempts: 2 });

    expect(await queue.requeueDead(['r'])).toEqual(['r']);
    expect(await queue.deadIds()).toEqual([]);
    expect(await status(redis, 'r')).toMatchObject({ status: 'Queued', attempt: 0 });
    [t] = (await consumer.fetch(['w'])).tasks;
    expect(t?.attempt).toBe(1);
  });

  it('leaves no attempts entry for a task that ends Failed, Cancelled (running or waiting) or Dead after a retry', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueueMany(['rej', 'run', 'wait'].map((id) => ({ id, type: 't', maxAttempts: 3 })));
    const got = (await consumer.fetch(['1', '2', '3'])).tasks;
    const held = (id: string) => got.find((t) => t.id === id)!;
    expect(await consumer.fail('rej', '1', held('rej').token, { mode: 'reject', reason: 'bad' })).toBe('Failed');
    // a cancel requested while it runs: the worker's failure report ends it Cancelled
    expect((await queue.cancel('run', { waitMs: 0 })).outcome).toBe('running');
    expect(await consumer.fail('run', '2', held('run').token, { mode: 'retry', reason: 'aborted', delayMs: 0 })).toBe('Cancelled');
    // retried once (its count, 1, waits in the attempts hash), then cancelled while it waits
    expect(await consumer.fail('wait', '3', held('wait').token, { mode: 'retry', reason: 'boom', delayMs: 60_000 })).toBe('Retrying');
    expect(await redis.hget(k.attempts, 'wait')).toBe('1');
    expect((await queue.cancel('wait')).outcome).toBe('cancelled');
    expect(await status(redis, 'rej')).toMatchObject({ status: 'Failed', attempt: 1 });
    expect(await status(redis, 'run')).toMatchObject({ status: 'Cancelled', attempt: 1 });
    expect(await status(redis, 'wait')).toMatchObject({ status: 'Cancelled', attempt: 1 });
    expect(await redis.exists(k.attempts)).toBe(0);
  });

  it('requeueFailed gives a rejected task another chance: out of the rejected list, Queued at attempt 0, history kept; other ids left alone', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueueMany([
      { id: 'rej', type: 't', maxAttempts: 3 },
      { id: 'dead', type: 't', maxAttempts: 1, priority: 7 },
    ]);
    const got = (await consumer.fetch(['1', '2'])).tasks;
    const held = (id: string) => got.find((t) => t.id === id)!;
    const history = { attempt: 1, at: Date.now(), worker: '1', error: 'no handler', stack: '' };
    expect(await consumer.fail('rej', '1', held('rej').token, { mode: 'reject', reason: 'no handler for type t', history })).toBe('Failed');
    expect(await consumer.fail('dead', '2', held('dead').token, { mode: 'dead', reason: 'boom' })).toBe('Dead');
    expect(await queue.rejectedIds()).toEqual(['rej']);

    // a Dead task, an unknown id: not in the rejected list, left as they are
    expect(await queue.requeueFailed(['dead', 'nope'])).toEqual([]);
    expect(await queue.deadIds()).toEqual(['dead']);
    expect(await queue.requeueFailed(['rej', 'rej'])).toEqual(['rej']);
    expect(await queue.rejectedIds()).toEqual([]);
    expect(await status(redis, 'rej')).toMatchObject({ status: 'Queued', attempt: 0, reason: 'requeued from the rejected list' });
    expect(await queue.history('rej')).toHaveLength(1);
    expect(await queue.readyCount()).toBe(1);
    const [again] = (await consumer.fetch(['1'])).tasks;
    expect(again).toMatchObject({ id: 'rej', attempt: 1 });
  });

  it('requeueAllDead moves every dead task back', async () => {
    const { queue, consumer } = setup();
    await consumer.register();
    await queue.enqueueMany(['a', 'b', 'c'].map((id) => ({ id, type: 't', maxAttempts: 1 })));
    for (const t of (await consumer.fetch(['1', '2', '3'])).tasks) await consumer.fail(t.id, t.worker, t.token, { mode: 'dead', reason: 'x' });
    expect((await queue.deadIds()).sort()).toEqual(['a', 'b', 'c']);
    expect(await queue.requeueAllDead()).toBe(3);
    expect(await queue.readyCount()).toBe(3);
  });

  it('caps the dead-letter list and forgets what falls off it', async () => {
    const { redis, queue, consumer } = setup({ deadMax: 2 });
    await consumer.register();
    await queue.enqueueMany(['d1', 'd2', 'd3'].map((id) => ({ id, type: 't', maxAttempts: 1 })));
    for (const t of (await consumer.fetch(['1', '2', '3'])).tasks) await consumer.fail(t.id, t.worker, t.token, { mode: 'dead', reason: 'x' });
    expect(await queue.deadIds()).toEqual(['d3', 'd2']);
    expect(await status(redis, 'd1')).toBeUndefined();
    expect(await redis.hexists(k.tasks, 'd1')).toBe(0);
  });

  it('refuses an ack or fail with a stale fencing token, even from the consumer that holds the task again', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueue({ id: 'z', type: 't' });
    const [first] = (await consumer.fetch(['w'])).tasks;
    // presumed dead: the janitor returns the task; the same consumer fetches it again
    await redis.zadd(k.consumers, 1, 'c');
    await new Janitor({ queue: 'fail', staleAfterMs: 1000, connection: redis }).runOnce();
    await consumer.register();
    const [second] = (await consumer.fetch(['w'])).tasks;
    expect(second?.token).not.toBe(first?.token);
    const seq = await redis.get(k.seq);
    expect(await consumer.ack('z', 'w', first.token)).toBe(false);
    expect(await consumer.fail('z', 'w', first.token, { mode: 'dead', reason: 'late' })).toBeUndefined();
    expect(await redis.get(k.seq)).toBe(seq);
    expect(await consumer.ack('z', 'w', second.token)).toBe(true);
    // the run the janitor interrupted does not count as an attempt
    expect(await status(redis, 'z')).toMatchObject({ status: 'Done', attempt: 1 });
  });

  it('sends a task whose workers keep dying to the dead-letter list after maxRecoveries', async () => {
    const { redis, queue, consumer } = setup();
    const janitor = new Janitor({ queue: 'fail', staleAfterMs: 1000, maxRecoveries: 2, connection: redis });
    await queue.enqueue({ id: 'poison', type: 't' });
    for (const expected of ['Queued', 'Dead']) {
      await consumer.register();
      await consumer.fetch(['w']);
      await redis.zadd(k.consumers, 1, 'c'); // its worker "died"
      await janitor.runOnce();
      expect((await status(redis, 'poison'))?.status).toBe(expected);
    }
    expect(await queue.deadIds()).toEqual(['poison']);
    expect((await status(redis, 'poison'))?.reason).toMatch(/died while running it 2 times/);
    // its count (the dying run counts) is in the Dead record only
    expect(await status(redis, 'poison')).toMatchObject({ attempt: 1 });
    expect(await redis.exists(k.attempts)).toBe(0);
  });

  it('reconcile returns tasks a lost fetch reply left in the processing list, and keeps the running ones', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueueMany([{ id: 'kept', type: 't' }, { id: 'lost', type: 't' }]);
    await consumer.fetch(['1', '2']); // imagine the reply for 'lost' never arrived
    expect(await consumer.reconcile(['kept'])).toEqual(['lost']);
    expect(await queue.processingIds('c')).toEqual(['kept']);
    expect(await status(redis, 'lost')).toMatchObject({ status: 'Queued', attempt: 0, reason: expect.stringMatching(/reply was lost/) as unknown });
    expect(await queue.readyCount()).toBe(1);
  });

  it('reconcile returns an id that is twice in the processing list once, with its count going back once', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueue({ id: 'twice', type: 't' });
    await consumer.fetch(['1']);
    await redis.lpush(k.processing('c'), 'twice'); // a second copy, however it got there
    expect(await consumer.reconcile([])).toEqual(['twice']);
    expect(await queue.processingIds('c')).toEqual([]);
    expect(await redis.lrange(k.ready, 0, -1)).toEqual(['twice']);
    expect(await status(redis, 'twice')).toMatchObject({ status: 'Queued', attempt: 0 });
    expect(await redis.hexists(k.attempts, 'twice')).toBe(0);
  });

  it('delays a task until due, recorded Delayed with runAt, and reports when the next one is due', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueue({ id: 'later', type: 't', delayMs: 60_000 });
    expect(await status(redis, 'later')).toMatchObject({ status: 'Delayed', runAt: expect.any(Number) as unknown });
    const got = await consumer.fetch(['w']);
    expect(got.tasks).toEqual([]);
    expect(got.nextDueInMs).toBeGreaterThan(50_000);
    expect(await queue.readyCount()).toBe(0);
  });

  it('cancels Queued, Delayed and Retrying tasks at once and says so; final and unknown tasks are left alone', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueueMany([
      { id: 'q', type: 't' },
      { id: 'd', type: 't', delayMs: 60_000 },
      { id: 'r', type: 't' },
    ]);
    // make 'r' Retrying: fetch both ready tasks, fail 'r' with a long delay, give 'q' back
    const fetched = (await consumer.fetch(['1', '2'])).tasks;
    const r = fetched.find((t) => t.id === 'r')!;
    await consumer.fail('r', r.worker, r.token, { mode: 'retry', reason: 'x', delayMs: 60_000 });
    await consumer.release(['q'], 'test');
    for (const id of ['q', 'd', 'r']) {
      expect(await queue.cancel(id)).toEqual({ id, outcome: 'cancelled', status: 'Cancelled', cancelled: true });
    }
    expect(await queue.readyCount()).toBe(0);
    expect(await queue.delayedCount()).toBe(0);
    expect(await queue.cancel('q')).toMatchObject({ outcome: 'final', status: 'Cancelled', cancelled: false });
    expect(await queue.cancel('nope')).toEqual({ id: 'nope', outcome: 'not-found', status: undefined, cancelled: false });
    expect((await status(redis, 'd'))?.status).toBe('Cancelled');
  });

  it('asks the holder to cancel an InProgress task; its fail then records Cancelled instead of a retry', async () => {
    const { redis, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueue({ id: 'run', type: 't' });
    const [t] = (await consumer.fetch(['w'])).tasks;
    const result = await queue.cancel('run', { waitMs: 0 });
    expect(result).toMatchObject({ outcome: 'running', status: 'InProgress', cancelled: false });
    expect((await consumer.heartbeat()).cancelRequested).toEqual(['run']);
    expect(await consumer.fail('run', 'w', t.token, { mode: 'retry', reason: 'aborted', delayMs: 0 })).toBe('Cancelled');
    expect(await queue.delayedCount()).toBe(0);
    expect(await status(redis, 'run')).toMatchObject({ status: 'Cancelled' });
  });

  it('rejects invalid options before writing anything', async () => {
    const { redis, queue } = setup();
    const bad = [
      { type: 't', delayMs: -1 },
      { type: 't', maxAttempts: 0 },
      { type: 't', maxAttempts: 1.5 },
      { type: 't', timeoutMs: 0 },
      { type: 't', backoff: { type: 'linear' } },
      { type: 't', delayMs: 5, runAt: Date.now() },
    ];
    for (const input of bad) {
      await expect(queue.enqueueMany([{ type: 'fine' }, input as never])).rejects.toThrow(InvalidTaskError);
    }
    expect(await redis.hlen(k.status)).toBe(0);
    expect(await queue.readyCount()).toBe(0);
  });

  it('retention forgets the oldest Done tasks beyond the count limit', async () => {
    const { redis, queue, consumer, config } = setup({ maxCount: 3 });
    await consumer.register();
    // generated ids: the queue's counter, from 1
    const ids = (await queue.enqueueMany(Array.from({ length: 5 }, () => ({ type: 't' })))).map((t) => t.id);
    expect(ids).toEqual(['1', '2', '3', '4', '5']);
    for (const t of (await consumer.fetch(ids)).tasks) await consumer.ack(t.id, t.worker, t.token);
    const pass = await new Janitor({ ...config, connection: redis }).runOnce();
    expect(pass.trimmed).toBe(2);
    expect(await redis.hlen(k.status)).toBe(3);
    expect(await redis.hlen(k.tasks)).toBe(3);
  });

  it('retention forgets Done tasks older than the age limit, oldest first, and keeps the young ones', async () => {
    const { redis, queue, consumer, config } = setup({ maxAgeMs: 60 * 60 * 1000 });
    await consumer.register();
    const ids = (await queue.enqueueMany(Array.from({ length: 3 }, () => ({ type: 't' })))).map((t) => t.id);
    for (const t of (await consumer.fetch(['w', 'w', 'w'])).tasks) await consumer.ack(t.id, t.worker, t.token);
    expect(await redis.lrange(k.finished, 0, -1)).toEqual([...ids].reverse());
    // the first two finished ten hours ago (their final records say so)
    for (const id of ids.slice(0, 2)) {
      const rec = JSON.parse((await redis.hget(k.status, id))!) as { at: number };
      await redis.hset(k.status, id, JSON.stringify({ ...rec, at: rec.at - 10 * 60 * 60 * 1000 }));
    }
    const pass = await new Janitor({ ...config, connection: redis }).runOnce();
    expect(pass.trimmed).toBe(2);
    expect(await redis.lrange(k.finished, 0, -1)).toEqual([ids[2]]);
    expect(await redis.hkeys(k.tasks)).toEqual([ids[2]]);
    expect(await redis.hkeys(k.status)).toEqual([ids[2]]);
  });
});
