import { decodeStatusRecord, StatusRecorder } from '@taskq/recorder';
import { FENCE_ENCODING_FIELD, queueKeys } from './keys';
import { keysOf } from './config';
import { Consumer } from './consumer';
import { Queue } from './queue';
import type { TaskInput } from './task';
import { closeMocks, mockRedis } from './test-support/mock-redis';
import { InvalidTaskError } from './errors/invalid-task-error';

const config = { queue: 'unit' };

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

/** A mock Redis with a queue and a registered consumer 'c1'. */
async function registered() {
  const { redis } = mockRedis();
  const queue = new Queue({ ...config, connection: redis });
  const consumer = new Consumer({ ...config, id: 'c1', connection: redis });
  await consumer.register();
  return { redis, queue, consumer };
}

describe('Queue and Consumer (ioredis-mock)', () => {
  afterEach(closeMocks);

  it('enqueues several pipelined chunks in input order, each id once, and publishes one message per chunk', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const k = queueKeys('unit');
    const subscriber = redis.duplicate();
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(k.events);
    const ids = Array.from({ length: 2500 }, (_, i) => `t${i}`);
    // t5 comes again in the third chunk: the first one stands
    const inputs = [...ids.map((id) => ({ id, type: 'x', payload: id })), { id: 't5', type: 'x', payload: 'again' }];
    const tasks = await queue.enqueueMany(inputs);
    expect(tasks).toHaveLength(2501);
    expect(tasks[2500]).toMatchObject({ id: 't5', payload: 't5' });
    expect(await queue.readyCount()).toBe(2500);
    // LPUSH side in, RPOP side out: the oldest is at the consuming end
    expect(await redis.lrange(k.ready, -3, -1)).toEqual(['t2', 't1', 't0']);
    expect(await redis.lrange(k.ready, 0, 0)).toEqual(['t2499']);
    // a Queued task's body stands for its record: no status entry per waiting task
    expect(await redis.hlen(k.status)).toBe(0);
    expect(await redis.hlen(k.tasks)).toBe(2500);
    expect(await new StatusRecorder(redis, keysOf(config)).get('t2499')).toMatchObject({ id: 't2499', status: 'Queued', attempt: 0, seq: 0 });
    await waitFor(() => messages.length >= 3);
    const published = messages.map((m) => JSON.parse(m) as { id: string; seq: number }[]);
    expect(published.map((m) => m.length)).toEqual([1000, 1000, 500]);
    const seqs = published.flat().map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    await subscriber.quit();
    // 2,500 tasks through Lua on ioredis-mock (fengari) take a few seconds on a busy 2-core machine
  }, 30_000);

  it('sends a chunk of generated-id, due-now tasks as tails only, and mixed chunks in full; ids, bodies and order agree', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const k = queueKeys('unit');
    // chunk 1: all generated and due now (tails only); chunk 2: one given id; chunk 3: one delayed
    const inputs = Array.from({ length: 2500 }, (_, i): TaskInput => ({ type: 'x', payload: i }));
    inputs[1500] = { id: 'given-1500', type: 'x', payload: 1500 };
    inputs[2400] = { type: 'x', payload: 2400, delayMs: 60_000 };
    const tasks = await queue.enqueueMany(inputs);
    const generated = tasks.filter((_, i) => i !== 1500).map((t) => t.id);
    expect(generated).toEqual(Array.from({ length: 2499 }, (_, i) => String(i + 1)));
    expect(tasks[1500].id).toBe('given-1500');
    tasks.forEach((t, i) => expect(t.payload).toBe(i));
    const stored = await queue.getTasks(tasks.map((t) => t.id));
    for (const t of tasks) expect(stored.get(t.id)).toMatchObject({ id: t.id, type: 'x', payload: t.payload });
    expect(await queue.readyCount()).toBe(2499);
    expect(await queue.delayedCount()).toBe(1);
    expect(await redis.zscore(k.delayed, tasks[2400].id)).not.toBeNull();
    // the ready list holds them in input order (oldest at the consuming end)
    expect(await redis.lrange(k.ready, -2, -1)).toEqual(['2', '1']);
    expect(await redis.lrange(k.ready, 0, 0)).toEqual([tasks[2499].id]);
  });

  it('skips a generated number that names a stored task (an all-digit id an earlier version accepted)', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const k = queueKeys('unit');
    await redis.hset(k.tasks, '2', '[1790000000000,"old",null]');
    const ids = (await queue.enqueueMany([{ type: 'x' }, { type: 'x' }, { type: 'x' }])).map((t) => t.id);
    // 1..3 were drawn for the batch; 2 is taken, so that task gets the next free number
    expect(ids).toEqual(['1', '4', '3']);
    expect(await redis.hget(k.tasks, '2')).toBe('[1790000000000,"old",null]');
    expect(await redis.lrange(k.ready, 0, -1)).toEqual([...ids].reverse());
  });

  it('a new task does not inherit the stale record of an earlier task of its id that has no body left', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const k = queueKeys('unit');
    await redis.hset(k.status, 'again', JSON.stringify({ id: 'again', status: 'Failed', attempt: 1, at: 1, seq: 1 }));
    await queue.enqueue({ id: 'again', type: 'x' });
    expect(await new StatusRecorder(redis, keysOf(config)).get('again')).toMatchObject({ status: 'Queued', seq: 0 });
  });

  it('enqueues, fetches in FIFO order as a batch, acks, and records each status', async () => {
    const { redis, queue, consumer } = await registered();
    await queue.enqueueMany([
      { id: 'a', type: 'sleep', payload: { ms: 1 } },
      { id: 'b', type: 'sleep', payload: { ms: 2 } },
      { id: 'c', type: 'sleep' },
    ]);
    expect(await queue.readyCount()).toBe(3);
    const k = queueKeys('unit');
    // enqueued: no stored record; the recorder reads the body's stand-in
    expect(await redis.hget(k.status, 'a')).toBeNull();
    const queued = await new StatusRecorder(redis, keysOf(config)).get('a');
    expect(queued).toMatchObject({ id: 'a', status: 'Queued', attempt: 0, seq: 0 });
    expect(Math.abs(queued!.at - Date.now())).toBeLessThan(5000);

    const got = (await consumer.fetch(['w-1', 'w-2'])).tasks;
    expect(got.map((t) => t.id)).toEqual(['a', 'b']);
    expect(got[0].task).toMatchObject({ id: 'a', type: 'sleep', payload: { ms: 1 } });
    expect(got[1].attempt).toBe(1);
    expect(await queue.processingIds('c1')).toEqual(expect.arrayContaining(['a', 'b']));
    const rec = decodeStatusRecord((await redis.hget(k.status, 'b'))!);
    expect(rec).toMatchObject({ status: 'InProgress', worker: 'w-2', attempt: 1 });

    expect(await consumer.ack('a', 'w-1', got[0].token)).toBe(true);
    expect(decodeStatusRecord((await redis.hget(k.status, 'a'))!).status).toBe('Done');
    expect(await queue.processingIds('c1')).toEqual(['b']);
    // a second ack of the same task is refused and changes nothing
    const seqBefore = await redis.get(k.seq);
    expect(await consumer.ack('a', 'w-1', got[0].token)).toBe(false);
    expect(await redis.get(k.seq)).toBe(seqBefore);
  });

  it('tells how many tasks a fetch left ready, and the next due time once it emptied the ready list', async () => {
    const { queue, consumer } = await registered();
    await queue.enqueueMany([{ type: 'x' }, { type: 'x' }, { type: 'x' }]);
    await queue.enqueue({ type: 'x', delayMs: 60_000 });
    const first = await consumer.fetch(['w-1', 'w-2']);
    expect(first.tasks).toHaveLength(2);
    expect(first.readyLeft).toBe(1);
    // tasks still ready: the due time is not looked up
    expect(first.nextDueInMs).toBeUndefined();
    // exactly the last one: the list is empty now, though the fetch got all it asked for
    const second = await consumer.fetch(['w-3']);
    expect(second.tasks).toHaveLength(1);
    expect(second.readyLeft).toBe(0);
    expect(second.nextDueInMs).toBeGreaterThan(50_000);
    const third = await consumer.fetch(['w-4', 'w-5']);
    expect(third).toMatchObject({ tasks: [], readyLeft: 0 });
    // acks alone ask for nothing
    const acked = await consumer.exchange([{ id: (first.tasks[0] as { id: string }).id, worker: 'w-1', token: (first.tasks[0] as { token: string }).token }], []);
    expect(acked).toMatchObject({ acks: [true], tasks: [], readyLeft: undefined });
  });

  it('pause: fetch hands out and promotes nothing (paused, readyLeft undefined) while acks land; resume hands out again; both published with a seq of their own', async () => {
    const { redis, queue, consumer } = await registered();
    const k = queueKeys('unit');
    const subscriber = redis.duplicate();
    const messages: string[] = [];
    subscriber.on('message', (channel: string, message: string) => messages.push(`${channel === k.wake ? 'wake' : 'events'} ${message}`));
    await subscriber.subscribe(k.events, k.wake);
    await queue.enqueueMany([{ type: 'x', id: 'p1' }, { type: 'x', id: 'p2' }]);
    await queue.enqueue({ type: 'x', id: 'due', delayMs: 60_000 });
    const [held] = (await consumer.fetch(['w-1'])).tasks;
    expect(held?.id).toBe('p1');
    const seqBefore = Number(await redis.get(k.seq));
    const pause = await queue.pause('maintenance');
    expect(pause).toMatchObject({ event: 'paused', seq: seqBefore + 1, reason: 'maintenance' });
    expect(await queue.pause()).toEqual(pause);
    await redis.zadd(k.delayed, 0, 'due'); // due now
    const whilePaused = await consumer.exchange([{ id: 'p1', worker: 'w-1', token: held?.token ?? '' }], ['w-1', 'w-2']);
    expect(whilePaused).toMatchObject({ acks: [true], tasks: [], paused: true, readyLeft: undefined, nextDueInMs: undefined });
    expect((await queue.status('p1'))?.status).toBe('Done');
    expect((await queue.status('due'))?.status).toBe('Delayed'); // not promoted while paused
    expect(await queue.readyCount()).toBe(1);
    expect((await consumer.fetch(['w-1'])).paused).toBe(true);

    const resume = await queue.resume();
    expect(resume).toMatchObject({ event: 'resumed' });
    expect(resume?.seq).toBeGreaterThan(pause.seq);
    expect(await queue.resume()).toBeUndefined();
    const after = await consumer.fetch(['w-1', 'w-2']);
    expect(after.paused).toBe(false);
    expect(after.tasks.map((t) => t.id).sort()).toEqual(['due', 'p2']);
    await waitFor(() => messages.some((m) => m === 'wake resumed'));
    const events = messages.filter((m) => m.startsWith('events {')).map((m) => JSON.parse(m.slice(7)) as { event: string; seq: number });
    expect(events.map((e) => e.event)).toEqual(['paused', 'resumed']);
    await subscriber.quit();
  });

  it('priorities: higher levels first, FIFO within a level, the default level (5) between; a task taken back goes before its level; cancel and delayed tasks keep their level', async () => {
    const { redis, queue, consumer } = await registered();
    const k = queueKeys('unit');
    const level = (id: string, priority?: number) => ({ id, type: 'x', ...(priority === undefined ? {} : { priority }) });
    await queue.enqueueMany([level('a'), level('b', 9), level('c', 1), level('d', 9), level('e', 5), level('f', 7), level('g', 1), level('x', 3)]);
    expect(await redis.llen(k.ready)).toBe(2); // a and e: the default level is the plain list
    expect(await queue.readyCount()).toBe(8);
    expect((await queue.cancel('x')).outcome).toBe('cancelled');
    expect(await queue.readyCount()).toBe(7);
    const first = await consumer.fetch(['w1', 'w2', 'w3']);
    expect(first.tasks.map((t) => t.id)).toEqual(['b', 'd', 'f']);
    expect(first.readyLeft).toBe(4);
    expect(first.tasks[0]?.task?.priority).toBe(9);
    // taken back: before the tasks of its level that were enqueued later
    await queue.enqueue('x', null, { id: 'h', priority: 9 });
    expect(await consumer.release(['b'], 'test')).toBe(1);
    // a delayed task with a priority, due now: promoted into its level
    await queue.enqueue('x', null, { id: 'late', priority: 8, delayMs: 60_000 });
    await redis.zadd(k.delayed, 0, 'late');
    const second = await consumer.fetch(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']);
    expect(second.tasks.map((t) => t.id)).toEqual(['b', 'h', 'late', 'a', 'e', 'c', 'g']);
    expect(second.readyLeft).toBe(0);
    expect(await redis.zcard(k.prioritized)).toBe(0);
  });

  it('publishes on the wake channel how many tasks became ready (0 when only a due time changed)', async () => {
    const { redis, another } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const k = queueKeys('unit');
    const subscriber = another();
    const messages: string[] = [];
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === k.wake) messages.push(String(message)); // the in-memory Redis passes numbers through
    });
    await subscriber.subscribe(k.wake);
    await queue.enqueueMany([{ type: 'x' }, { type: 'x' }, { type: 'x' }]);
    await queue.enqueue({ type: 'x', delayMs: 60_000 });
    await queue.enqueueMany([{ id: 'r1', type: 'x' }, { id: 'd1', type: 'x', delayMs: 60_000 }]);
    await waitFor(() => messages.length === 3);
    expect(messages).toEqual(['3', '0', '1']);
  });

  it('acks out of the processing list wherever the tasks are in it: a tail at once, the rest one by one; a duplicate or stale ack is refused', async () => {
    const { redis, queue, consumer } = await registered();
    await queue.enqueueMany(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, type: 't' })));
    const got = (await consumer.fetch(['1', '2', '3', '4', '5', '6'])).tasks;
    const item = (id: string, token?: string) => {
      const t = got.find((x) => x.id === id)!;
      return { id, worker: t.worker, token: token ?? t.token };
    };
    // newest first: the tail is the oldest fetch
    expect(await queue.processingIds('c1')).toEqual(['f', 'e', 'd', 'c', 'b', 'a']);
    // a and b are the tail (c is not acked), so d goes by itself; e has a stale token, a is acked twice
    const flags = await consumer.ackMany([item('d'), item('b'), item('e', '1:1'), item('a'), item('a')]);
    expect(flags).toEqual([true, true, false, true, false]);
    expect(await queue.processingIds('c1')).toEqual(['f', 'e', 'c']);
    const k = queueKeys('unit');
    for (const id of ['a', 'b', 'd']) expect(decodeStatusRecord((await redis.hget(k.status, id))!).status).toBe('Done');
    for (const id of ['c', 'e', 'f']) expect(decodeStatusRecord((await redis.hget(k.status, id))!).status).toBe('InProgress');
    // f is at the head: acked by itself
    expect(await consumer.ackMany([item('f')])).toEqual([true]);
    expect(await queue.processingIds('c1')).toEqual(['e', 'c']);
    // the whole list is the tail
    expect(await consumer.ackMany([item('c'), item('e')])).toEqual([true, true]);
    expect(await queue.processingIds('c1')).toEqual([]);
    expect(await redis.lrange(k.finished, 0, -1)).toEqual(['e', 'c', 'f', 'a', 'b', 'd']);
    for (const id of ['c', 'e', 'f']) expect(decodeStatusRecord((await redis.hget(k.status, id))!).status).toBe('Done');
    // every token is gone; the field that keeps the hash a hashtable (a value over 64 bytes) stays
    const fence = await redis.hgetall(k.fence);
    expect(Object.keys(fence)).toEqual([FENCE_ENCODING_FIELD]);
    expect(fence[FENCE_ENCODING_FIELD].length).toBeGreaterThan(64);
  });

  it('escapes the records of an id an earlier version accepted (quotes, backslash, control character) when it is fetched', async () => {
    const { redis, queue, consumer } = await registered();
    const k = queueKeys('unit');
    const odd = 'old "id" \\ \u0001';
    // as an earlier version stored it: body and id in the ready list, beside a task of today
    await redis.hset(k.tasks, odd, '[1790000000000,"t",null]');
    await redis.lpush(k.ready, odd);
    await queue.enqueue({ id: 'new', type: 't' });
    const subscriber = redis.duplicate();
    const messages: string[] = [];
    subscriber.on('message', (_c: string, m: string) => messages.push(m));
    await subscriber.subscribe(k.events);
    const got = (await consumer.fetch(['w-1', 'w-2'])).tasks;
    expect(got.map((t) => t.id)).toEqual([odd, 'new']);
    expect(decodeStatusRecord((await redis.hget(k.status, odd))!)).toMatchObject({ id: odd, status: 'InProgress', worker: 'w-1' });
    await waitFor(() => messages.length >= 1);
    expect((JSON.parse(messages[0]) as { id: string }[]).map((r) => r.id)).toEqual([odd, 'new']);
    expect(await consumer.ackMany(got.map((t) => ({ id: t.id, worker: t.worker, token: t.token })))).toEqual([true, true]);
    expect(decodeStatusRecord((await redis.hget(k.status, odd))!)).toMatchObject({ id: odd, status: 'Done', worker: 'w-1' });
    await subscriber.quit();
  });

  it('records worker names that need JSON escaping (the slower, escaping path) as well as plain ones', async () => {
    const { redis, queue, consumer } = await registered();
    await queue.enqueueMany([{ id: 'a', type: 't' }, { id: 'b', type: 't' }]);
    const k = queueKeys('unit');
    const odd = 'w "1"\\\n';
    const got = (await consumer.fetch([odd, 'w-2'])).tasks;
    expect(got.map((t) => t.worker)).toEqual([odd, 'w-2']);
    expect(decodeStatusRecord((await redis.hget(k.status, 'a'))!)).toMatchObject({ status: 'InProgress', worker: odd, attempt: 1 });
    expect(decodeStatusRecord((await redis.hget(k.status, 'b'))!)).toMatchObject({ status: 'InProgress', worker: 'w-2', attempt: 1 });
    // one odd name in an exchange sends all of it down the escaping path; both acks stand
    const acked = await consumer.ackMany(got.map((t) => ({ id: t.id, worker: t.worker, token: t.token })));
    expect(acked).toEqual([true, true]);
    expect(decodeStatusRecord((await redis.hget(k.status, 'a'))!)).toMatchObject({ status: 'Done', worker: odd, attempt: 1 });
    expect(decodeStatusRecord((await redis.hget(k.status, 'b'))!)).toMatchObject({ status: 'Done', worker: 'w-2', attempt: 1 });
    // an empty worker name is left out of the record, as before
    await queue.enqueue({ id: 'c', type: 't' });
    const [c] = (await consumer.fetch([''])).tasks;
    expect(decodeStatusRecord((await redis.hget(k.status, 'c'))!)).not.toHaveProperty('worker');
    expect(await consumer.ack('c', '', c.token)).toBe(true);
    expect(decodeStatusRecord((await redis.hget(k.status, 'c'))!)).toMatchObject({ status: 'Done' });
  });

  it('rejects with a reason into the rejected list', async () => {
    const { redis, queue, consumer } = await registered();
    await queue.enqueue({ id: 'x', type: 'nope' });
    const [x] = (await consumer.fetch(['w'])).tasks;
    expect(await consumer.fail('x', 'w', x.token, { mode: 'reject', reason: 'no handler for type "nope"' })).toBe('Failed');
    expect(await queue.rejectedIds()).toEqual(['x']);
    const rec = decodeStatusRecord((await redis.hget(queueKeys('unit').status, 'x'))!);
    expect(rec).toMatchObject({ status: 'Failed', reason: 'no handler for type "nope"' });
  });

  it('reports a stored body that is not JSON as invalid instead of throwing', async () => {
    const { redis } = mockRedis();
    const k = queueKeys('unit');
    const consumer = new Consumer({ ...config, id: 'c1', connection: redis });
    await consumer.register();
    await redis.hset(k.tasks, 'bad', '{not json');
    await redis.lpush(k.ready, 'bad', 'ghost'); // 'ghost' has no body at all
    const got = (await consumer.fetch(['w1', 'w2'])).tasks;
    expect(got.map((t) => t.id)).toEqual(['bad', 'ghost']);
    expect(got[0].task).toBeUndefined();
    expect(got[0].invalid?.message).toMatch(/not valid JSON/);
    expect(got[1].invalid?.message).toMatch(/no task is stored/);
  });

  it('releases tasks to the front of the ready list, recorded Queued', async () => {
    const { queue, consumer } = await registered();
    await queue.enqueueMany([{ id: 'n1', type: 't' }, { id: 'n2', type: 't' }]);
    await consumer.fetch(['w']);
    expect(await consumer.release(['n1'], 'worker stopping')).toBe(1);
    const next = (await consumer.fetch(['w'])).tasks;
    expect(next[0].id).toBe('n1');
    // a released attempt does not count
    expect(next[0].attempt).toBe(1);
  });

  it('is idempotent per task id and validates input before writing anything', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const first = await queue.enqueue({ id: 'same', type: 't', payload: 1 });
    const second = await queue.enqueue({ id: 'same', type: 't', payload: 2 });
    expect(await queue.readyCount()).toBe(1);
    // the second enqueue returns the task that exists, not the one it was given
    expect(second.payload).toBe(1);
    expect(second.enqueuedAt).toBe(first.enqueuedAt);
    // the same new id twice in one call: the first one stands, once
    const twice = await queue.enqueueMany([
      { id: 'dup', type: 't', payload: 'first' },
      { id: 'dup', type: 't', payload: 'second' },
    ]);
    expect(twice.map((t) => t.payload)).toEqual(['first', 'first']);
    expect(await queue.readyCount()).toBe(2);
    await expect(queue.enqueueMany([{ type: 'ok' }, { type: '' }])).rejects.toThrow(InvalidTaskError);
    await expect(queue.enqueue({ type: 'ok', id: 'has space' })).rejects.toThrow(/task id/);
    expect(await queue.readyCount()).toBe(2);
  });

  it('refuses to hand tasks to an unregistered consumer until it registers again', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const consumer = new Consumer({ ...config, id: 'c9', connection: redis });
    await queue.enqueue({ id: 'q', type: 't' });
    // never registered: fetch registers it, then fetches
    const got = (await consumer.fetch(['w'])).tasks;
    expect(got.map((t) => t.id)).toEqual(['q']);
    expect((await queue.consumers()).has('c9')).toBe(true);
  });
});
