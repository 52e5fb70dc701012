import type { Redis } from 'ioredis';
import { Consumer } from './consumer';
import { InvalidListQueryError } from './errors/invalid-list-query-error';
import { Janitor } from './janitor';
import { queueKeys, type QueueKeys } from './keys';
import type { ListableStatus, TaskPage } from './list';
import type { Queue } from './queue';
import { cancelWaiting, fetchAll, finish, listSetup, range, zmembers } from './test-support/list-fixtures';
import { useRedisServer } from './test-support/redis-server';

// Queue.listTasks's pages and cursors, on a real redis-server (Lua 5.1, as in production).

const real = useRedisServer();
const setup = (retention?: { maxCount?: number }) => listSetup(real, retention);

const idsOf = (page: TaskPage): string[] => page.tasks.map((t) => t.id);

/** Every page of a status, `limit` at a time: the ids in order, and each page's size. */
async function allPages(queue: Queue, status: ListableStatus, limit: number): Promise<{ ids: string[]; sizes: number[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 1000; n++) {
    const page = await queue.listTasks(status, { limit, ...(cursor ? { cursor } : {}) });
    ids.push(...idsOf(page));
    sizes.push(page.tasks.length);
    for (const row of page.tasks) expect(row.record.status).toBe(status);
    cursor = page.nextCursor;
    if (cursor === undefined) return { ids, sizes };
  }
  throw new Error('more than 1000 pages');
}

describe('Queue.listTasks: pages of each status', () => {
  it('Queued in the order workers take them: priorities above the default, the ready list, below, then parked; InProgress by consumer, newest first', async () => {
    const { redis, queue, consumer, config } = setup();
    await consumer.register();
    await queue.setLimit({ concurrency: 1 }, { type: 'lim' });
    await queue.enqueueMany(['lim1', 'lim2', 'lim3'].map((id) => ({ id, type: 'lim' })));
    // lim1 runs, lim2 and lim3 are parked (their type is at its limit)
    expect((await consumer.fetch(['w1', 'w2', 'w3'])).tasks.map((t) => t.id)).toEqual(['lim1']);
    await queue.enqueueMany([
      { id: 'q1', type: 't' },
      { id: 'low', type: 't', priority: 1 },
      { id: 'h1', type: 't', priority: 9 },
      { id: 'q2', type: 't' },
      { id: 'h2', type: 't', priority: 7 },
      { id: 'q3', type: 't' },
    ]);
    const order = ['h1', 'h2', 'q1', 'q2', 'q3', 'low', 'lim2', 'lim3'];
    expect(idsOf(await queue.listTasks('Queued'))).toEqual(order);
    for (const limit of [1, 2, 3, 5]) {
      const { ids, sizes } = await allPages(queue, 'Queued', limit);
      expect({ limit, ids }).toEqual({ limit, ids: order });
      expect(sizes.slice(0, -1).every((n) => n === limit)).toBe(true);
    }
    const [first] = (await queue.listTasks('Queued', { limit: 1 })).tasks;
    expect(first).toMatchObject({ id: 'h1', task: { type: 't', priority: 9 }, record: { status: 'Queued', attempt: 0 } });

    // InProgress: consumer a's list (newest first), then c1's
    const a = new Consumer({ ...config, id: 'a' });
    await a.register();
    expect((await a.fetch(['x'])).tasks.map((t) => t.id)).toEqual(['h1']);
    expect((await a.fetch(['y'])).tasks.map((t) => t.id)).toEqual(['h2']);
    expect((await allPages(queue, 'InProgress', 1)).ids).toEqual(['h2', 'h1', 'lim1']);
    const running = await queue.listTasks('InProgress');
    expect(running.nextCursor).toBeUndefined();
    expect(running.tasks.map((t) => [t.id, t.record.worker])).toEqual([['h2', 'y'], ['h1', 'x'], ['lim1', 'w1']]);
    expect(await redis.llen(queueKeys(config.queue).processing('a'))).toBe(2);
  });

  it('Delayed and Retrying soonest first (equal due times by id); Done, Cancelled, Dead and Failed newest first; each alone', async () => {
    const { redis, k, queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, range('done', 4), 'done');
    await finish(queue, consumer, range('dead', 3), 'dead');
    await finish(queue, consumer, range('rej', 3), 'reject');
    await finish(queue, consumer, range('retry', 3), { retryInMs: (i) => 50_000 - i * 10_000 });
    await cancelWaiting(queue, range('cxl', 3));
    const [sec] = await redis.time();
    const at = (Number(sec) + 3600) * 1000;
    await queue.enqueueMany([
      { id: 'del-late', type: 't', runAt: at + 1000 },
      { id: 'del-b', type: 't', runAt: at },
      { id: 'del-early', type: 't', delayMs: 40_000 },
      { id: 'del-a', type: 't', runAt: at },
      { id: 'del-c', type: 't', runAt: at },
    ]);
    const expected: Record<string, string[]> = {
      Done: ['done3', 'done2', 'done1', 'done0'],
      Dead: ['dead2', 'dead1', 'dead0'],
      Failed: ['rej2', 'rej1', 'rej0'],
      Cancelled: ['cxl2', 'cxl1', 'cxl0'],
      Retrying: ['retry2', 'retry1', 'retry0'],
      Delayed: ['del-early', 'del-a', 'del-b', 'del-c', 'del-late'],
      Queued: [],
      InProgress: [],
    };
    for (const [status, ids] of Object.entries(expected)) {
      const s = status as ListableStatus;
      expect({ s, ids: idsOf(await queue.listTasks(s)) }).toEqual({ s, ids });
      for (const limit of [1, 2]) expect({ s, limit, ids: (await allPages(queue, s, limit)).ids }).toEqual({ s, limit, ids });
    }
    // the rows: body and record
    const [dead] = (await queue.listTasks('Dead', { limit: 1 })).tasks;
    expect(dead).toMatchObject({ id: 'dead2', task: { type: 't', maxAttempts: 1 }, record: { status: 'Dead', attempt: 1, reason: 'boom', worker: 'w2' } });
    const [retry] = (await queue.listTasks('Retrying', { limit: 1 })).tasks;
    expect(retry?.record.runAt).toBe(Number(await redis.zscore(k.retrying, 'retry2')));
    // a full page that ends the list has no next cursor; one that does not, has
    expect((await queue.listTasks('Dead', { limit: 3 })).nextCursor).toBeUndefined();
    expect((await queue.listTasks('Dead', { limit: 2 })).nextCursor).toEqual(expect.any(String));
  });
});

describe('Queue.listTasks: cursors stay put while the queue moves', () => {
  it('Done: tasks finishing meanwhile (the new end) and retention trimming the old end skip or repeat nothing that stayed; a cursor whose task was trimmed ends the list', async () => {
    const { queue, consumer, config } = setup({ maxCount: 100 });
    await consumer.register();
    await finish(queue, consumer, range('t', 10), 'done'); // the list: t9 … t0
    const first = await queue.listTasks('Done', { limit: 4 });
    expect(idsOf(first)).toEqual(['t9', 't8', 't7', 't6']);
    await finish(queue, consumer, range('n', 3), 'done');
    // retention keeps the newest 11: t1 and t0 go
    expect((await new Janitor({ ...config, retention: { maxCount: 11 } }).runOnce()).trimmed).toBe(2);
    const second = await queue.listTasks('Done', { limit: 4, cursor: first.nextCursor });
    expect(idsOf(second)).toEqual(['t5', 't4', 't3', 't2']);
    expect(second.nextCursor).toBeUndefined();

    // a cursor whose task retention forgot: everything older went with it
    const page = await queue.listTasks('Done', { limit: 10 });
    expect(idsOf(page).at(-1)).toBe('t3');
    expect((await new Janitor({ ...config, retention: { maxCount: 2 } }).runOnce()).trimmed).toBe(9);
    expect(await queue.listTasks('Done', { cursor: page.nextCursor })).toEqual({ tasks: [] });
  });

  it('Dead: requeued tasks (the cursor’s own among them, dead again since, at the new end) and new dead tasks skip or repeat nothing that stayed', async () => {
    const { queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, range('d', 8), 'dead'); // d7 … d0
    const first = await queue.listTasks('Dead', { limit: 3 });
    expect(idsOf(first)).toEqual(['d7', 'd6', 'd5']);
    // d5 (the cursor) and d3 run again; d5 dies again: it is first in the list now, with a newer record
    expect(await queue.requeueDead(['d5', 'd3'])).toEqual(['d5', 'd3']);
    const again = await fetchAll(consumer, ['d5', 'd3']);
    const d5 = again.get('d5')!;
    expect(await consumer.fail('d5', d5.worker, d5.token, { mode: 'dead', reason: 'boom' })).toBe('Dead');
    await finish(queue, consumer, ['new'], 'dead');
    expect(await queue.deadIds()).toEqual(['new', 'd5', 'd7', 'd6', 'd4', 'd2', 'd1', 'd0']);
    const second = await queue.listTasks('Dead', { limit: 3, cursor: first.nextCursor });
    expect(idsOf(second)).toEqual(['d4', 'd2', 'd1']);
    const third = await queue.listTasks('Dead', { limit: 3, cursor: second.nextCursor });
    expect(idsOf(third)).toEqual(['d0']);
    expect(third.nextCursor).toBeUndefined();
  });

  it('Failed and Cancelled: new ones at the new end are not shown again, nothing skipped', async () => {
    const { queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, range('f', 5), 'reject');
    await cancelWaiting(queue, range('c', 5));
    const failed = await queue.listTasks('Failed', { limit: 2 });
    const cancelled = await queue.listTasks('Cancelled', { limit: 2 });
    await finish(queue, consumer, ['f-new'], 'reject');
    await cancelWaiting(queue, ['c-new']);
    expect(await queue.requeueFailed(['f2'])).toEqual(['f2']);
    expect(await allPages2(queue, 'Failed', failed.nextCursor)).toEqual(['f1', 'f0']);
    expect(await allPages2(queue, 'Cancelled', cancelled.nextCursor)).toEqual(['c2', 'c1', 'c0']);
  });

  it('Delayed: the cursor’s task cancelled, tasks added before and after it, one due at the same time with a later id: each that stayed once, in order', async () => {
    const { redis, k, queue } = setup();
    await queue.enqueueMany(range('e', 6).map((id, i) => ({ id, type: 't', delayMs: 100_000 + i * 10_000 })));
    const first = await queue.listTasks('Delayed', { limit: 2 });
    expect(idsOf(first)).toEqual(['e0', 'e1']);
    const e1Due = Number(await redis.zscore(k.delayed, 'e1'));
    expect((await queue.cancel('e1')).outcome).toBe('cancelled');
    await queue.enqueueMany([
      { id: 'early', type: 't', delayMs: 50_000 },
      { id: 'late', type: 't', delayMs: 500_000 },
      { id: 'e1a', type: 't', runAt: e1Due }, // due with e1, its id sorts after e1's: after the cursor
      { id: 'e0z', type: 't', runAt: e1Due - 1 }, // before the cursor
    ]);
    const rest = await allPages2(queue, 'Delayed', first.nextCursor, 2);
    expect(rest).toEqual(['e1a', 'e2', 'e3', 'e4', 'e5', 'late']);
  });

  it('Delayed with equal due times: a cursor whose task left finds its place among them by id', async () => {
    const { redis, queue } = setup();
    const [sec] = await redis.time();
    const at = (Number(sec) + 3600) * 1000;
    const ids = range('s', 40).sort();
    await queue.enqueueMany(ids.map((id) => ({ id, type: 't', runAt: at })));
    const first = await queue.listTasks('Delayed', { limit: 17 });
    expect(idsOf(first)).toEqual(ids.slice(0, 17));
    // the cursor's task and the one before it leave
    for (const id of ids.slice(15, 17)) expect((await queue.cancel(id)).outcome).toBe('cancelled');
    expect(await allPages2(queue, 'Delayed', first.nextCursor, 5)).toEqual(ids.slice(17));
  });

  it('Retrying: the cursor’s task cancelled and earlier ones promoted: the next page goes on after it', async () => {
    const { queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, range('r', 6), { retryInMs: (i) => (i < 1 ? 0 : 100_000 + i * 10_000) }); // r0 due now
    const first = await queue.listTasks('Retrying', { limit: 3 });
    expect(idsOf(first)).toEqual(['r0', 'r1', 'r2']);
    expect((await queue.cancel('r2')).outcome).toBe('cancelled');
    expect((await consumer.fetch(['w'])).tasks.map((t) => t.id)).toEqual(['r0']); // promoted, out of the index
    expect(await allPages2(queue, 'Retrying', first.nextCursor, 2)).toEqual(['r3', 'r4', 'r5']);
  });
});

/** The pages after `cursor`, to the end: their ids in order. */
async function allPages2(queue: Queue, status: ListableStatus, cursor: string | undefined, limit = 50): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; cursor !== undefined && n < 1000; n++) {
    const page = await queue.listTasks(status, { limit, cursor });
    ids.push(...idsOf(page));
    cursor = page.nextCursor;
  }
  return ids;
}

describe('Queue.listTasks: data written before the indexes', () => {
  /** Moves a Cancelled task to the retained list, where earlier builds kept it. */
  async function asBefore(redis: Redis, k: QueueKeys, id: string): Promise<void> {
    expect(await redis.lrem(k.cancelled, 1, id)).toBe(1);
    await redis.lpush(k.finished, id);
  }

  it('Done skips the Cancelled tasks of the retained list, Delayed the unindexed Retrying ones; cancel, promotion and retention still handle them', async () => {
    const { redis, k, queue, consumer, config } = setup({ maxCount: 100 });
    await consumer.register();
    await finish(queue, consumer, ['done0'], 'done');
    await cancelWaiting(queue, ['old-c']);
    await asBefore(redis, k, 'old-c');
    await finish(queue, consumer, ['done1'], 'done');
    await finish(queue, consumer, ['old-r', 'old-r2'], { retryInMs: () => 60_000 });
    await redis.zrem(k.retrying, 'old-r', 'old-r2'); // an earlier build kept no index
    await queue.enqueue({ id: 'del', type: 't', delayMs: 60_000 });

    expect(await redis.lrange(k.finished, 0, -1)).toEqual(['done1', 'old-c', 'done0']);
    expect((await allPages(queue, 'Done', 1)).ids).toEqual(['done1', 'done0']);
    expect(idsOf(await queue.listTasks('Cancelled'))).toEqual([]);
    expect(idsOf(await queue.listTasks('Delayed'))).toEqual(['del']);
    expect(idsOf(await queue.listTasks('Retrying'))).toEqual([]);
    // cancel of an unindexed Retrying task works as before
    expect((await queue.cancel('old-r')).outcome).toBe('cancelled');
    expect(await zmembers(redis, k.delayed)).toEqual(['del', 'old-r2']);
    // retention trims the retained list, Cancelled tasks in it too
    expect((await new Janitor({ ...config, retention: { maxCount: 1 } }).runOnce()).trimmed).toBe(2);
    expect(await redis.lrange(k.finished, 0, -1)).toEqual(['done1']);
    expect(await redis.hexists(k.status, 'old-c')).toBe(0);
  });

  it('a page that reads only tasks of another status (more than it reads at once) ends early with a cursor, and the next finds the rest', async () => {
    const { redis, k, queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, ['oldest-done'], 'done');
    // 1500 Cancelled tasks in the retained list, newer than it, as an earlier build kept them
    const ids = range('x', 1500);
    const records: string[] = [];
    let seq = Number(await redis.get(k.seq));
    for (const id of ids) records.push(id, JSON.stringify({ id, status: 'Cancelled', attempt: 0, at: Date.now(), seq: ++seq }));
    await redis.set(k.seq, seq);
    await redis.hset(k.status, ...records);
    await redis.lpush(k.finished, ...ids);
    const first = await queue.listTasks('Done');
    expect(first.tasks).toEqual([]);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(await allPages2(queue, 'Done', first.nextCursor)).toEqual(['oldest-done']);
  });
});

describe('Queue.listTasks: inputs', () => {
  it('refuses a status not listed, a limit out of 1-500 and a cursor it did not make for that status, naming the field; an empty cursor is the first page', async () => {
    const { queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, range('d', 3), 'dead');
    const fieldOf = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidListQueryError);
        expect((err as InvalidListQueryError).code).toBe('TASKQ_INVALID_LIST_QUERY');
        return (err as InvalidListQueryError).field;
      }
      throw new Error('not refused');
    };
    expect(await fieldOf(queue.listTasks('Bogus' as ListableStatus))).toBe('status');
    for (const limit of [0, 501, 1.5, NaN]) expect(await fieldOf(queue.listTasks('Dead', { limit }))).toBe('limit');
    const cursor = (await queue.listTasks('Dead', { limit: 1 })).nextCursor!;
    await expect(queue.listTasks('Done', { cursor })).rejects.toThrow('cursor is not valid: it pages through the Dead tasks, not the Done ones');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of ['not a cursor!', 'e30', b64({ v: 2, s: 'Dead', id: 'x', seq: 1 }), b64({ v: 1, s: 'Dead', id: 'x' }), b64({ v: 1, s: 'Dead', id: '', seq: 1 }), b64([1]), 'x'.repeat(3000)]) {
      expect({ bad, field: await fieldOf(queue.listTasks('Dead', { cursor: bad })) }).toEqual({ bad, field: 'cursor' });
    }
    expect(idsOf(await queue.listTasks('Dead', { cursor: '' }))).toEqual(['d2', 'd1', 'd0']);
    expect(idsOf(await queue.listTasks('Dead', { cursor }))).toEqual(['d1', 'd0']);
  });
});
