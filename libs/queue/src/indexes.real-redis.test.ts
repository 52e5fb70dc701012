import { decodeStatusRecord } from '@taskq/recorder';
import { Janitor } from './janitor';
import { cancelWaiting, fetchAll, finish, listSetup, zmembers } from './test-support/list-fixtures';
import { useRedisServer } from './test-support/redis-server';

// The per-status indexes kept by the transition scripts, on a real
// redis-server (Lua 5.1, as in production): the Retrying index (the Retrying
// tasks of the delayed set) and the cancelled list (Cancelled tasks, apart
// from the Done ones of the retained list), both within retention.

const real = useRedisServer();
const setup = (retention?: { maxCount?: number }) => listSetup(real, retention);

describe('the Retrying index and the cancelled list, kept by the transition scripts', () => {
  it('a retry adds the task to the Retrying index with its due time; a fetch promotes due tasks out of both sets at once; a Delayed task is never in the index', async () => {
    const { redis, k, queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, ['r1', 'r2', 'r3'], { retryInMs: (i) => (i < 2 ? 0 : 60_000) });
    await queue.enqueue({ id: 'd1', type: 't', delayMs: 60_000 });
    expect(await zmembers(redis, k.retrying)).toEqual(['r1', 'r2', 'r3']);
    for (const id of ['r1', 'r2', 'r3']) {
      expect(await redis.zscore(k.retrying, id)).toBe(await redis.zscore(k.delayed, id));
      expect(Number(await redis.zscore(k.retrying, id))).toBe(decodeStatusRecord((await redis.hget(k.status, id))!).runAt);
    }
    expect(await zmembers(redis, k.delayed)).toEqual(['d1', 'r1', 'r2', 'r3']);

    // r1 and r2 are due: one fetch promotes both (and hands them out), out of the delayed set and the index
    const got = (await consumer.fetch(['a', 'b', 'c'])).tasks;
    expect(got.map((t) => t.id).sort()).toEqual(['r1', 'r2']);
    expect(await zmembers(redis, k.retrying)).toEqual(['r3']);
    expect(await zmembers(redis, k.delayed)).toEqual(['d1', 'r3']);
    // retried again: back in the index at its new due time
    const r1 = got.find((t) => t.id === 'r1')!;
    expect(await consumer.fail('r1', r1.worker, r1.token, { mode: 'retry', reason: 'again', delayMs: 30_000 })).toBe('Retrying');
    expect(await redis.zscore(k.retrying, 'r1')).toBe(await redis.zscore(k.delayed, 'r1'));
    expect(await zmembers(redis, k.retrying)).toEqual(['r1', 'r3']);
  });

  it('a queue where nothing retries has no Retrying index: a promotion of Delayed tasks does not make one', async () => {
    const { redis, k, queue, consumer } = setup();
    await consumer.register();
    await queue.enqueueMany([{ id: 'soon', type: 't', delayMs: 1 }, { id: 'later', type: 't', delayMs: 60_000 }]);
    const [sec, micro] = await redis.time();
    const dueAt = Number(await redis.zscore(k.delayed, 'soon'));
    // wait for Redis's clock to pass the due time (no fixed sleep: the server's TIME is asked)
    for (let now = Number(sec) * 1000 + Math.floor(Number(micro) / 1000); now < dueAt; ) {
      const [s, u] = await redis.time();
      now = Number(s) * 1000 + Math.floor(Number(u) / 1000);
    }
    expect((await consumer.fetch(['w'])).tasks.map((t) => t.id)).toEqual(['soon']);
    expect(await redis.exists(k.retrying)).toBe(0);
    expect(await zmembers(redis, k.delayed)).toEqual(['later']);
  });

  it('the hot path pays nothing for them: enqueue, fetch and ack of tasks due now touch neither index; a fetch that promotes due tasks asks EXISTS of the Retrying index, and ZREM only while tasks retry', async () => {
    const { redis, k, queue, consumer } = setup();
    await consumer.register();
    // every command the server runs, those of scripts included (MONITOR, on a connection of its own)
    const monitor = await redis.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    let mark = 0;
    /** The commands run on `key` since the last call (scripts' inner commands; not the EVALSHA that names it among its KEYS). */
    const commandsOn = async (key: string): Promise<string[]> => {
      const token = `mark-${++mark}`;
      await redis.echo(token);
      for (let n = 0; !seen.some((a) => a[0]?.toLowerCase() === 'echo' && a[1] === token); n++) {
        if (n > 1000) throw new Error('MONITOR did not show the mark');
        await new Promise((resolve) => setImmediate(resolve));
      }
      const found = seen.filter((a) => !['evalsha', 'eval'].includes(a[0]?.toLowerCase() ?? '') && a.includes(key)).map((a) => (a[0] ?? '').toUpperCase());
      seen.length = 0;
      return found;
    };
    try {
      await commandsOn(k.retrying);
      await queue.enqueueMany(['a', 'b'].map((id) => ({ id, type: 't' })));
      const held = await fetchAll(consumer, ['a', 'b']);
      expect(await consumer.ackMany([...held.values()].map((t) => ({ id: t.id, worker: t.worker, token: t.token })))).toEqual([true, true]);
      expect(await commandsOn(k.retrying)).toEqual([]);
      // a pool's round trip: the acks of the tasks it ran and the next fetch, in one script
      await queue.enqueueMany(['c', 'd', 'e'].map((id) => ({ id, type: 't' })));
      const more = await fetchAll(consumer, ['c', 'd']);
      const trip = await consumer.exchange([...more.values()].map((t) => ({ id: t.id, worker: t.worker, token: t.token })), ['w0']);
      expect({ acks: trip.acks, ids: trip.tasks.map((t) => t.id) }).toEqual({ acks: [true, true], ids: ['e'] });
      expect(await commandsOn(k.retrying)).toEqual([]);
      expect(await commandsOn(k.cancelled)).toEqual([]);

      // a retry due at once: added to the index; the fetch that promotes it asks EXISTS and removes it
      await finish(queue, consumer, ['r'], { retryInMs: () => 0 });
      expect(await commandsOn(k.retrying)).toEqual(['ZADD']);
      expect((await consumer.fetch(['w'])).tasks.map((t) => t.id)).toEqual(['r']);
      expect(await commandsOn(k.retrying)).toEqual(['EXISTS', 'ZREM']);
      // a Delayed task promoted while none retries: one EXISTS, nothing else
      await queue.enqueue({ id: 'later', type: 't', delayMs: 1 });
      const dueAt = Number(await redis.zscore(k.delayed, 'later'));
      for (let now = 0; now < dueAt; ) {
        const [s, u] = await redis.time();
        now = Number(s) * 1000 + Math.floor(Number(u) / 1000);
      }
      expect((await consumer.fetch(['w'])).tasks.map((t) => t.id)).toEqual(['later']);
      expect(await commandsOn(k.retrying)).toEqual(['EXISTS']);
    } finally {
      monitor.disconnect();
    }
  });

  it('a cancel of a Retrying task takes it out of the delayed set and the index, of a Delayed or Queued one out of theirs: each onto the cancelled list, newest first, not the retained list', async () => {
    const { redis, k, queue, consumer } = setup();
    await consumer.register();
    await finish(queue, consumer, ['r1', 'r2'], { retryInMs: () => 60_000 });
    await queue.enqueueMany([{ id: 'd1', type: 't', delayMs: 60_000 }, { id: 'q1', type: 't' }]);
    expect((await queue.cancel('r1')).outcome).toBe('cancelled');
    expect(await zmembers(redis, k.retrying)).toEqual(['r2']);
    expect(await zmembers(redis, k.delayed)).toEqual(['d1', 'r2']);
    expect((await queue.cancel('d1')).outcome).toBe('cancelled');
    expect(await zmembers(redis, k.delayed)).toEqual(['r2']);
    expect((await queue.cancel('q1')).outcome).toBe('cancelled');
    expect(await redis.lrange(k.cancelled, 0, -1)).toEqual(['q1', 'd1', 'r1']);
    expect(await redis.exists(k.finished)).toBe(0);
    // a final task: nothing moves
    expect((await queue.cancel('r1')).outcome).toBe('final');
    expect(await redis.lrange(k.cancelled, 0, -1)).toEqual(['q1', 'd1', 'r1']);
  });

  it("a running task cancelled: its worker's report and a janitor's recovery of its dead worker push it onto the cancelled list; a Done task goes to the retained list", async () => {
    const { redis, k, queue, consumer, config } = setup();
    await consumer.register();
    await queue.enqueueMany(['x', 'y', 'z'].map((id) => ({ id, type: 't' })));
    const held = await fetchAll(consumer, ['x', 'y', 'z']);
    expect(await consumer.ack('z', held.get('z')!.worker, held.get('z')!.token)).toBe(true);
    expect((await queue.cancel('x', { waitMs: 0 })).outcome).toBe('running');
    expect((await queue.cancel('y', { waitMs: 0 })).outcome).toBe('running');
    // the worker's handler aborted: whatever it reports ends the task Cancelled (not Retrying)
    expect(await consumer.fail('x', held.get('x')!.worker, held.get('x')!.token, { mode: 'retry', reason: 'aborted', delayMs: 0 })).toBe('Cancelled');
    expect(await redis.exists(k.retrying)).toBe(0);
    expect(await redis.lrange(k.cancelled, 0, -1)).toEqual(['x']);
    // y's worker dies: the janitor recovers it, Cancelled
    await redis.zadd(k.consumers, 1, consumer.id);
    const pass = await new Janitor({ ...config, staleAfterMs: 1000 }).runOnce();
    expect([...pass.recovered.keys()]).toEqual([consumer.id]);
    expect(decodeStatusRecord((await redis.hget(k.status, 'y'))!)).toMatchObject({ status: 'Cancelled', reason: 'cancelled; its worker stopped' });
    expect(await redis.lrange(k.cancelled, 0, -1)).toEqual(['y', 'x']);
    expect(await redis.lrange(k.finished, 0, -1)).toEqual(['z']);
  });

  it('retention keeps the newest maxCount of each list (Done, Cancelled) and forgets both beyond the age limit', async () => {
    const { redis, k, queue, consumer, config } = setup({ maxCount: 2 });
    await consumer.register();
    await finish(queue, consumer, ['d0', 'd1', 'd2'], 'done');
    await cancelWaiting(queue, ['c0', 'c1', 'c2']);
    expect((await new Janitor(config).runOnce()).trimmed).toBe(2);
    expect(await redis.lrange(k.finished, 0, -1)).toEqual(['d2', 'd1']);
    expect(await redis.lrange(k.cancelled, 0, -1)).toEqual(['c2', 'c1']);
    for (const id of ['d0', 'c0']) expect([await redis.hexists(k.status, id), await redis.hexists(k.tasks, id)]).toEqual([0, 0]);
    expect(await redis.hlen(k.status)).toBe(4);

    // by age: a janitor whose age limit is 1 ms forgets them all once Redis's clock has moved on
    const young = new Janitor({ ...config, retention: { maxAgeMs: 1 } });
    let trimmed = 0;
    for (let n = 0; trimmed < 4 && n < 1000; n++) trimmed += (await young.runOnce()).trimmed;
    expect(trimmed).toBe(4);
    expect([await redis.exists(k.finished), await redis.exists(k.cancelled), await redis.hlen(k.status), await redis.hlen(k.tasks)]).toEqual([0, 0, 0, 0]);
  });
});

