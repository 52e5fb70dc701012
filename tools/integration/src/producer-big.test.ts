import { queueKeys } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps } from './test-support/app-process';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';

const clients = new RedisClients();
let server: RedisServer | undefined;

afterEach(async () => {
  await killAllApps();
  await clients.close();
  await server?.stop();
  server = undefined;
});

describe('producer with a big count', () => {
  it('enqueues 200,000 tasks --no-wait in batches, with progress lines, and exits 0; every task is in Redis once', async () => {
    const queue = newQueueName('big');
    const keys = queueKeys(queue);
    const redis = await clients.connect();
    const producer = AppProcess.start('producer', ['200000', '--no-wait', '--redis', testRedisUrl(), '--queue', queue, '--id-prefix', 'big_']);
    const exit = await producer.waitForExit(20_000);
    expect({ code: exit.code, signal: exit.signal, stderr: producer.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const progress = producer.lines.filter((l) => l.msg.startsWith('enqueued ') && l['total'] === 200_000);
    expect(progress.map((l) => l.msg.replace(/, \d+ tasks\/s$/, ''))).toEqual(['enqueued 100000/200000 task(s) (50%)']);
    expect(progress[0]).toMatchObject({ queue, enqueued: 100_000, total: 200_000 });
    expect(progress[0]?.['rate']).toBeGreaterThan(0);
    expect(producer.linesStartingWith(`enqueued 200000 task(s) on queue ${queue}`)).toHaveLength(1);
    expect(await redis.llen(keys.ready)).toBe(200_000);
    expect(await redis.hlen(keys.tasks)).toBe(200_000);
    expect(await redis.hexists(keys.tasks, 'big_200000')).toBe(1);
  });

  it('Redis refusing writes mid-way (maxmemory): exit 1 saying how many went in; the same command with the same --id-prefix adds the rest, no duplicates', async () => {
    server = await startRedisServer({ args: ['--maxmemory', '16mb', '--maxmemory-policy', 'noeviction'] });
    const queue = newQueueName('big-oom');
    const keys = queueKeys(queue);
    const redis = await clients.connect(server.url);
    const args = ['150000', '--no-wait', '--redis', server.url, '--queue', queue, '--id-prefix', 'oom_'];

    const first = AppProcess.start('producer', args);
    const exit = await first.waitForExit(20_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
    const said =
      /^error: enqueue failed after (\d+) of 150000 task\(s\) were enqueued, and of the next (\d+) some may be: OOM command not allowed[^\n]*[^.]\. To enqueue the rest, run the same command again with --id-prefix oom_ \(ids already enqueued are left as they are\)\n$/;
    expect(first.stderr).toMatch(said);
    const [, sure, maybe] = (said.exec(first.stderr) ?? []).map(Number);
    expect(sure).toBeGreaterThan(0);
    expect(sure).toBeLessThan(150_000);
    const ready = await redis.llen(keys.ready);
    expect(ready).toBeGreaterThanOrEqual(sure);
    expect(ready).toBeLessThanOrEqual(sure + maybe);
    expect(first.stderr).not.toMatch(/\n\s+at /); // no stack trace

    await redis.config('SET', 'maxmemory', '0');
    const second = AppProcess.start('producer', args);
    const again = await second.waitForExit(20_000);
    expect({ code: again.code, signal: again.signal, stderr: second.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(await redis.llen(keys.ready)).toBe(150_000);
    expect(await redis.hlen(keys.tasks)).toBe(150_000);
  });
});
