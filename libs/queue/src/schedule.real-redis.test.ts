import type { Redis } from 'ioredis';
import { Janitor } from './janitor';
import { queueKeys } from './keys';
import { useRedisServer } from './test-support/redis-server';
import { Queue } from './queue';
import { tickTaskId } from './schedule';

describe('schedules on a real redis-server', () => {
  const real = useRedisServer();

  it('a due tick is enqueued once by however many janitors, and the schedule moves to its next tick; a re-registration keeps it, another spec replaces it', async () => {
    const redis: Redis = real.redis;
    const config = { queue: 'sched', connection: redis };
    const k = queueKeys('sched');
    const queue = new Queue(config);
    const s = await queue.schedule('beat', { everyMs: 60_000, task: { type: 'ping', payload: { n: 1 } } });
    expect(s.next % 60_000).toBe(0); // each full minute
    expect((await queue.schedule('beat', { everyMs: 60_000, task: { type: 'ping', payload: { n: 1 } } })).next).toBe(s.next); // the same spec: kept

    // its tick is due now (as if a minute had passed)
    const tickAt = s.next - 60_000;
    await redis.zadd(k.scheduled, tickAt, 'beat');
    const janitors = [1, 2, 3, 4].map(() => new Janitor(config));
    const passes = await Promise.all(janitors.map((j) => j.runOnce()));
    const ticks = passes.flatMap((p) => p.ticks ?? []);
    expect(ticks).toEqual([{ schedule: 'beat', at: tickAt, taskId: tickTaskId('beat', tickAt) }]);
    // and again, one after another: nothing more is due
    for (const j of janitors) expect((await j.runOnce()).ticks).toEqual([]);
    const task = (await queue.getTasks([tickTaskId('beat', tickAt)])).get(tickTaskId('beat', tickAt));
    expect(task).toMatchObject({ type: 'ping', payload: { n: 1 } });
    expect(await queue.readyCount()).toBe(1);
    const [listed] = await queue.schedules();
    expect(listed).toMatchObject({ name: 'beat', everyMs: 60_000, next: s.next });

    // a tick done again after a crash between enqueue and advance: the id stands, no second task
    await redis.zadd(k.scheduled, tickAt, 'beat');
    expect((await janitors[0].runOnce()).ticks?.map((t) => t.taskId)).toEqual([tickTaskId('beat', tickAt)]);
    expect(await queue.readyCount()).toBe(1);

    const changed = await queue.schedule('beat', { cron: '0 3 * * *', timezone: 'UTC', task: { type: 'ping', payload: { n: 2 } } });
    expect(new Date(changed.next).toISOString()).toMatch(/T03:00:00\.000Z$/);
    expect(await queue.unschedule('beat')).toBe(true);
    expect(await queue.unschedule('beat')).toBe(false);
    expect(await queue.schedules()).toEqual([]);
    await queue.close();
  });

  it('a late pass catches up on every due tick (up to 5); more missed ticks make one run, for the first of them, then the next tick after now', async () => {
    const redis: Redis = real.redis;
    const config = { queue: 'sched-missed', connection: redis };
    const k = queueKeys('sched-missed');
    const queue = new Queue(config);
    await queue.schedule('beat', { everyMs: 1000, task: { type: 'ping' } });
    // no janitor ran for ten seconds: ten ticks are due at once
    const [sec] = await redis.time();
    const first = (Number(sec) - 10) * 1000;
    await redis.zadd(k.scheduled, first, 'beat');
    const pass = await new Janitor(config).runOnce();
    expect(pass.ticks?.map((t) => t.at)).toEqual([first]);
    const next = Number(await redis.zscore(k.scheduled, 'beat'));
    expect(next).toBeGreaterThan(Number(sec) * 1000);
    expect(await queue.readyCount()).toBe(1);

    // three seconds late: each of the three ticks runs
    const [sec2] = await redis.time();
    const late = (Number(sec2) - 3) * 1000;
    await redis.zadd(k.scheduled, late, 'beat');
    const caught = await new Janitor(config).runOnce();
    expect(caught.ticks?.map((t) => t.at - late)).toEqual([0, 1000, 2000, 3000].slice(0, caught.ticks?.length));
    expect(caught.ticks?.length).toBeGreaterThanOrEqual(3); // 3, or 4 when the second turned meanwhile
    expect(Number(await redis.zscore(k.scheduled, 'beat'))).toBe(late + 1000 * (caught.ticks?.length ?? 0));
    await queue.close();
  });
});
