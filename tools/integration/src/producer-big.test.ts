import { queueKeys } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line } from './test-support/app-process';
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

// Ctrl-C (SIGINT) or SIGTERM to the producer: it stops after the batch being sent, or stops
// waiting, says what is in the queue and how to add the rest, and exits 130.
describe('producer interrupted', () => {
  it('SIGINT while enqueuing 500,000: exit 130 naming how many went in (whole batches, all in Redis); the same command again adds exactly the rest', async () => {
    server = await startRedisServer(); // its own: half a million tasks
    const queue = newQueueName('interrupted');
    const keys = queueKeys(queue);
    const redis = await clients.connect(server.url);
    const args = ['500000', '--no-wait', '--redis', server.url, '--queue', queue, '--id-prefix', 'int_'];

    const first = AppProcess.start('producer', args);
    await first.waitForLine(line.msgStarts('enqueued 100000/500000 task(s)'), 'the first progress line', 20_000);
    first.signal('SIGINT');
    const exit = await first.waitForExit(20_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 130, signal: null });
    const said =
      /^SIGINT: stopped after (\d+) of 500000 task\(s\) were enqueued \(the batch being sent went in whole\); they stay in the queue and run\. To enqueue the rest, run the same command again with --id-prefix int_ \(ids already enqueued are left as they are\)\n$/;
    expect(first.stderr).toMatch(said);
    const enqueued = Number(said.exec(first.stderr)?.[1]);
    expect(enqueued).toBeGreaterThanOrEqual(100_000);
    expect(enqueued).toBeLessThan(500_000);
    expect(enqueued % 10_000).toBe(0); // whole batches
    expect(await redis.llen(keys.ready)).toBe(enqueued);
    expect(await redis.hlen(keys.tasks)).toBe(enqueued);
    expect(first.lines.some((l) => l.msg === 'SIGINT: stopping (send again to exit at once)')).toBe(true);

    const second = AppProcess.start('producer', args);
    const again = await second.waitForExit(30_000);
    expect({ code: again.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await redis.llen(keys.ready)).toBe(500_000);
    expect(await redis.hlen(keys.tasks)).toBe(500_000);
  }, 60_000);

  it('SIGTERM while waiting (no worker): exit 130, every task enqueued and still queued, the message says so', async () => {
    const queue = newQueueName('interrupted-wait');
    const keys = queueKeys(queue);
    const redis = await clients.connect();
    const producer = AppProcess.start('producer', ['3', '--redis', testRedisUrl(), '--queue', queue, '--id-prefix', 'w_']);
    await producer.waitForLine(line.msgStarts(`enqueued 3 task(s) on queue ${queue}`), 'the enqueued line');
    producer.signal('SIGTERM');
    const exit = await producer.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal, stderr: producer.stderr }).toEqual({
      code: 130,
      signal: null,
      stderr: 'SIGTERM: stopped waiting with 3 of 3 task(s) not final yet; all 3 are enqueued and run without the producer (taskq stats and taskq watch follow them)\n',
    });
    expect((await redis.lrange(keys.ready, 0, -1)).sort()).toEqual(['w_1', 'w_2', 'w_3']);
  });
});
