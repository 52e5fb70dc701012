import type { Redis } from 'ioredis';
import { Consumer } from './consumer';
import { queueKeys } from './keys';
import { SCRIPTS } from './lua-script';
import { decodeProgress, decodeProgressEvent, describeProgress, encodeProgress, PROGRESS_MESSAGE_MAX, type ProgressEvent } from './progress';
import { decodeQueueEvent } from './queue-event';
import { Queue } from './queue';
import { scriptKeys } from './script-keys';
import { backendName, closeMocks, mockRedis } from './test-support/mock-redis';

describe('encodeProgress (what ctx.progress checks)', () => {
  it('takes a percentage 0..100 or { done, total } with done <= total, and a message', () => {
    expect(encodeProgress(40)).toBe('{"pct":40}');
    expect(encodeProgress(0)).toBe('{"pct":0}');
    expect(encodeProgress(100, 'all "done"')).toBe('{"pct":100,"msg":"all \\"done\\""}');
    expect(encodeProgress(33.3333)).toBe('{"pct":33.33}');
    expect(encodeProgress({ done: 4, total: 10 })).toBe('{"pct":40,"done":4,"total":10}');
    expect(encodeProgress({ done: 1, total: 3 }, 'a\nb')).toBe('{"pct":33.33,"done":1,"total":3,"msg":"a\\nb"}');
    expect(encodeProgress({ done: 0, total: 0 })).toBe('{"pct":100,"done":0,"total":0}'); // nothing to do: all of it done
    expect((JSON.parse(encodeProgress(1, 'x'.repeat(5000))) as { msg: string }).msg).toHaveLength(PROGRESS_MESSAGE_MAX);
  });

  it.each([
    [-1, /0 to 100/],
    [100.5, /0 to 100/],
    [NaN, /0 to 100/],
    [Infinity, /0 to 100/],
    ['50', /got string/],
    [null, /got object/],
    [{ done: 5, total: 4 }, /done <= total/],
    [{ done: -1, total: 4 }, /finite numbers >= 0/],
    [{ done: 1, total: Infinity }, /finite numbers >= 0/],
    [{ done: 1 }, /finite numbers >= 0/],
  ])('refuses %p with a TypeError', (value, message) => {
    expect(() => encodeProgress(value as never)).toThrow(TypeError);
    expect(() => encodeProgress(value as never)).toThrow(message);
  });

  it('refuses a message that is not a string', () => {
    expect(() => encodeProgress(5, 42 as never)).toThrow(new TypeError('a progress message must be a string, got number'));
  });

  it('describes a progress as the Monitor logs it', () => {
    expect(describeProgress({ pct: 40, done: 4, total: 10, msg: 'copying', at: 1 })).toBe('40% (4/10) copying');
    expect(describeProgress({ pct: 12.5, at: 1 })).toBe('12.5%');
  });
});

describe(`progress.lua (${backendName()})`, () => {
  afterEach(closeMocks);
  const k = queueKeys('prog');

  async function running(ids: string[]): Promise<{ redis: Redis; sub: Redis; consumer: Consumer; queue: Queue; tokens: Map<string, string>; events: ProgressEvent[]; other: string[] }> {
    const { redis, another } = mockRedis();
    const sub = another();
    const config = { queue: 'prog', connection: redis };
    const queue = new Queue(config);
    const consumer = new Consumer({ ...config, id: 'c1' });
    await consumer.register();
    for (const id of ids) await queue.enqueue({ id, type: 't' });
    const { tasks } = await consumer.fetch(ids.map((_, i) => `w${i}`));
    const events: ProgressEvent[] = [];
    const other: string[] = [];
    sub.on('message', (_channel: string, message: string) => {
      const event = decodeProgressEvent(message);
      if (event) events.push(event);
      else other.push(message);
    });
    await sub.subscribe(k.events);
    return { redis, sub, consumer, queue, tokens: new Map(tasks.map((t) => [t.id, t.token])), events, other };
  }

  async function until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('stores and publishes the progress of held tasks, many in one call and one message, with the Redis time; Queue.progress reads it', async () => {
    const { redis, consumer, queue, tokens, events } = await running(['a', 'b']);
    const flags = await consumer.reportProgress([
      { id: 'a', token: tokens.get('a')!, body: encodeProgress({ done: 4, total: 10 }, 'copying "x"') },
      { id: 'b', token: tokens.get('b')!, body: encodeProgress(75) },
    ]);
    expect(flags).toEqual([true, true]);
    const a = await queue.progress('a');
    expect(a).toEqual({ pct: 40, done: 4, total: 10, msg: 'copying "x"', at: expect.any(Number) as number });
    expect(Math.abs(a!.at - Date.now())).toBeLessThan(5000);
    expect(await queue.progress('b')).toEqual({ pct: 75, at: a!.at });
    expect(await queue.progress('nope')).toBeUndefined();
    expect(await queue.progressMany(['b', 'nope'])).toEqual(new Map([['b', { pct: 75, at: a!.at }], ['nope', undefined]]));
    expect(JSON.parse((await redis.hget(k.progress, 'a'))!)).toEqual({ pct: 40, done: 4, total: 10, msg: 'copying "x"', at: a!.at });
    await until(() => events.length === 1);
    expect(events[0]).toEqual({
      event: 'progress',
      at: a!.at,
      tasks: [
        { id: 'a', pct: 40, done: 4, total: 10, msg: 'copying "x"', at: a!.at },
        { id: 'b', pct: 75, at: a!.at },
      ],
    });
  });

  it('the message is no queue event and uses no seq (monitors see no gap)', async () => {
    const { redis, consumer, tokens, events } = await running(['a']);
    const seq = await redis.get(k.seq);
    await consumer.reportProgress([{ id: 'a', token: tokens.get('a')!, body: encodeProgress(10) }]);
    await until(() => events.length === 1);
    expect(await redis.get(k.seq)).toBe(seq);
    expect(decodeQueueEvent(JSON.stringify(events[0]))).toBeUndefined();
  });

  it('refuses an update whose token no longer holds the task (released, recovered, ended, another fetch), writing and publishing nothing for it', async () => {
    const { redis, consumer, tokens, events } = await running(['a', 'b']);
    expect(await consumer.reportProgress([{ id: 'a', token: tokens.get('a')!, body: encodeProgress(10) }])).toEqual([true]);
    // a is released (a stopping worker): its progress goes, and the old token is refused
    expect(await consumer.release(['a'], 'stopping')).toBe(1);
    expect(await redis.hexists(k.progress, 'a')).toBe(0);
    const flags = await consumer.reportProgress([
      { id: 'a', token: tokens.get('a')!, body: encodeProgress(20) },
      { id: 'b', token: `${tokens.get('b')!}x`, body: encodeProgress(20) },
      { id: 'b', token: tokens.get('b')!, body: encodeProgress(30) },
      { id: 'ghost', token: '1:1', body: encodeProgress(30) },
    ]);
    expect(flags).toEqual([false, false, true, false]);
    expect(await redis.hexists(k.progress, 'a')).toBe(0);
    expect(await redis.hexists(k.progress, 'ghost')).toBe(0);
    expect(decodeProgress((await redis.hget(k.progress, 'b'))!)).toMatchObject({ pct: 30 });
    // a fetched again: the earlier fetch's token still cannot write
    const [again] = (await consumer.fetch(['w9'])).tasks;
    expect(again.id).toBe('a');
    expect(await consumer.reportProgress([{ id: 'a', token: tokens.get('a')!, body: encodeProgress(90) }])).toEqual([false]);
    expect(await consumer.reportProgress([{ id: 'a', token: again.token, body: encodeProgress(5) }])).toEqual([true]);
    await until(() => events.length === 3);
    expect(events.map((e) => e.tasks.map((t) => `${t.id}:${t.pct}`))).toEqual([['a:10'], ['b:30'], ['a:5']]);
    // a call whose every update is refused publishes nothing
    expect(await consumer.reportProgress([{ id: 'ghost', token: '1:1', body: encodeProgress(1) }])).toEqual([false]);
    await consumer.reportProgress([{ id: 'b', token: tokens.get('b')!, body: encodeProgress(31) }]);
    await until(() => events.length === 4);
    expect(events[3].tasks[0]).toMatchObject({ id: 'b', pct: 31 });
  });

  it('every way out of the running state drops the task\'s progress: ack (Done), fail (retry, dead, reject, cancel), recovery', async () => {
    const ids = ['done', 'retry', 'dead', 'reject', 'cancel', 'recovered'];
    const { redis, consumer, tokens } = await running(ids);
    const tok = (id: string): string => tokens.get(id)!;
    expect(await consumer.reportProgress(ids.map((id) => ({ id, token: tok(id), body: encodeProgress(50) })))).toEqual(ids.map(() => true));
    expect(await redis.hlen(k.progress)).toBe(6);
    expect(await consumer.ack('done', 'w0', tok('done'))).toBe(true);
    expect(await consumer.fail('retry', 'w1', tok('retry'), { mode: 'retry', reason: 'x', delayMs: 60_000 })).toBe('Retrying');
    expect(await consumer.fail('dead', 'w2', tok('dead'), { mode: 'dead', reason: 'x' })).toBe('Dead');
    expect(await consumer.fail('reject', 'w3', tok('reject'), { mode: 'reject', reason: 'x' })).toBe('Failed');
    expect(await consumer.fail('cancel', 'w4', tok('cancel'), { mode: 'cancel', reason: 'x' })).toBe('Cancelled');
    expect(await redis.hkeys(k.progress)).toEqual(['recovered']);
    // the consumer leaves (recover.lua): its held task goes back, without its progress
    expect(await consumer.unregister()).toBe(1);
    expect(await redis.exists(k.progress)).toBe(0);
  });

  it('a reply-lost fetch returned by reconcile drops its progress too', async () => {
    const { redis, consumer, tokens } = await running(['a']);
    await consumer.reportProgress([{ id: 'a', token: tokens.get('a')!, body: encodeProgress(50) }]);
    expect(await consumer.reconcile([])).toEqual(['a']);
    expect(await redis.exists(k.progress)).toBe(0);
  });

  it('retention (trim.lua) forgets a forgotten task\'s progress field with the task', async () => {
    const { redis, consumer, tokens } = await running(['a']);
    expect(await consumer.ack('a', 'w0', tokens.get('a')!)).toBe(true);
    // a field left behind (written by hand here: no script leaves one) goes with the task
    await redis.hset(k.progress, 'a', '{"pct":1,"at":1}');
    const forgotten = await SCRIPTS.trim.run(redis, scriptKeys('trim', k), [0, 0, 100]);
    expect(forgotten).toBe(1);
    expect(await redis.exists(k.tasks)).toBe(0);
    expect(await redis.exists(k.progress)).toBe(0);
  });
});
