import { SCRIPTS } from './lua-script';
import { scriptKeys } from './script-keys';
import { finish, listSetup, range } from './test-support/list-fixtures';
import { useRedisServer } from './test-support/redis-server';

// Retention's trim script on a real redis-server: each call reads the old end
// of the finished list at once and forgets a run of tasks with one LTRIM and
// one HDEL per hash (issue 18: a few commands per call, not a dozen per task).

const real = useRedisServer();

describe('trim', () => {
  it('forgets the oldest beyond the count limit, at most the budget per call, and every trace of them; the newest stay whole', async () => {
    const { redis, k, queue, consumer } = listSetup(real);
    await consumer.register();
    const ids = range('t', 25);
    await finish(queue, consumer, ids, 'done');
    const trim = (maxCount: number, budget: number) => SCRIPTS.trim.run(redis, scriptKeys('trim', k), [24 * 3600_000, maxCount, budget]);
    const before = Number((await redis.info('commandstats')).match(/cmdstat_hdel:calls=(\d+)/)?.[1] ?? 0);
    // keep 3: 22 to forget, 10 per call
    expect(await trim(3, 10)).toBe(10);
    expect(await trim(3, 10)).toBe(10);
    expect(await trim(3, 10)).toBe(2);
    expect(await trim(3, 10)).toBe(0);
    const hdels = Number((await redis.info('commandstats')).match(/cmdstat_hdel:calls=(\d+)/)?.[1] ?? 0) - before;
    // one HDEL per hash per call that forgot something: 10 hashes (no flow references here), 3 calls
    expect(hdels).toBe(3 * 10);
    // the finished list is newest first: the three last finished stay
    expect(await redis.lrange(k.finished, 0, -1)).toEqual(['t24', 't23', 't22']);
    for (const id of ids) {
      const kept = ['t22', 't23', 't24'].includes(id);
      expect([id, await redis.hexists(k.status, id), await redis.hexists(k.tasks, id)]).toEqual([id, kept ? 1 : 0, kept ? 1 : 0]);
    }
    // by age: nothing is older than the limit yet, then everything is
    expect(await SCRIPTS.trim.run(redis, scriptKeys('trim', k), [24 * 3600_000, 100, 1000])).toBe(0);
    expect(await SCRIPTS.trim.run(redis, scriptKeys('trim', k), [-1000, 100, 1000])).toBe(3);
    expect(await redis.exists(k.finished, k.status, k.tasks)).toBe(0);
  });
});
