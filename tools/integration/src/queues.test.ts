import { Queue, queueKeys } from '@taskq/queue';
import { WorkerPool } from '@taskq/worker-pool';
import { AppProcess, killAllApps, line, type LogLine } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { clientList, connectionsNamed, masters, newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

// Several queues per worker process (issue 14): `--queues a:6,b:3,c:1` shares
// the fetches by weight, `--strict` takes the first non-empty queue; one
// heartbeat, one subscriber and one janitor serve them all.

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

/** Three fresh queue names, highest weight first. */
function threeQueues(label: string): [string, string, string] {
  return [newQueueName(`${label}-critical`), newQueueName(`${label}-default`), newQueueName(`${label}-low`)];
}

async function fill(queue: string, count: number, ms = 0, idPrefix = ''): Promise<void> {
  const q = new Queue({ queue, connection: await clients.connect() });
  for (let start = 0; start < count; start += 5000) {
    const n = Math.min(5000, count - start);
    await q.enqueueMany(Array.from({ length: n }, (_, i) => ({ id: idPrefix ? `${idPrefix}${start + i + 1}` : undefined, type: 'sleep', payload: { ms } })));
  }
}

const queueOf = (l: LogLine): string => String(l['queue']);

describe('a worker serving several queues (the real worker app)', () => {
  it('--queues a:6,b:3,c:1 shares 10,000 fetches 60/30/10 % (each within ±5 % of its share) while every queue has tasks', async () => {
    const [a, b, c] = threeQueues('weighted');
    const each = 10_000;
    for (const q of [a, b, c]) await fill(q, each);
    const redis = await clients.connect();
    const ready = async (q: string): Promise<number> => (await redis.llen(queueKeys(q).ready)) + (await redis.zcard(queueKeys(q).prioritized));
    const worker = AppProcess.start('worker', ['8', '--queues', `${a}:6,${b}:3,${c}:1`, '--redis', testRedisUrl(), '--log-level', 'warn']);
    let taken = 0;
    await waitUntil(
      async () => {
        taken = 3 * each - (await ready(a)) - (await ready(b)) - (await ready(c));
        return taken >= 10_000;
      },
      { what: '10,000 tasks taken from the three queues', timeoutMs: 90_000, intervalMs: 20, details: () => `taken ${taken}\n${worker.tail()}` },
    );
    worker.signal('SIGTERM');
    expect((await worker.waitForExit(30_000)).code).toBe(0);
    // after the stop every task not run is ready again (unfinished ones were put back): taken = ran
    const ran = [each - (await ready(a)), each - (await ready(b)), each - (await ready(c))];
    const total = ran[0] + ran[1] + ran[2];
    expect(total).toBeGreaterThanOrEqual(10_000);
    // no queue ran out, so the weights alone decided
    expect(ran.every((n) => n < each)).toBe(true);
    const shares = ran.map((n) => n / total);
    const expected = [0.6, 0.3, 0.1];
    shares.forEach((share, i) => {
      expect({ queue: i, share, within5Percent: Math.abs(share / expected[i] - 1) <= 0.05 }).toEqual({ queue: i, share, within5Percent: true });
    });
    // every task it ran is Done
    for (const [i, q] of [a, b, c].entries()) expect(await redis.llen(queueKeys(q).finished)).toBe(ran[i]);
  }, 150_000);

  it('--strict: a backlog in all three runs the whole first queue, then the second, then the third', async () => {
    const [a, b, c] = threeQueues('strict');
    // enqueued lowest first, so neither arrival order nor ids decide
    await fill(c, 30);
    await fill(b, 30);
    await fill(a, 30);
    const worker = AppProcess.start('worker', ['2', '--queues', `${a}:6,${b}:3,${c}:1`, '--strict', '--redis', testRedisUrl()]);
    const starts = await worker.waitForLines(line.msgStarts('START '), 90, 'ninety tasks started', 30_000);
    expect(starts.map(queueOf)).toEqual([...Array<string>(30).fill(a), ...Array<string>(30).fill(b), ...Array<string>(30).fill(c)]);
    await worker.waitForLines(line.msgStarts('DONE '), 90, 'ninety tasks done');
  }, 60_000);

  it('--strict: a task arriving in the first queue runs next, before the rest of a lower queue\'s backlog', async () => {
    const [a, , c] = threeQueues('strict-live');
    await fill(c, 40, 30, 'low_');
    // connected before the count below, so that only the enqueue lies between them (a Cluster client takes longer to connect)
    const high = new Queue({ queue: a, connection: await clients.connect() });
    const worker = AppProcess.start('worker', ['1', '--queues', `${a}:2,${c}:1`, '--strict', '--redis', testRedisUrl()]);
    await worker.waitForLines((l) => l.msg.startsWith('START ') && queueOf(l) === c, 3, 'three low tasks started');
    const lowStartedBefore = worker.lines.filter((l) => l.msg.startsWith('START ')).length;
    await high.enqueueMany(['high_1', 'high_2', 'high_3'].map((id) => ({ id, type: 'sleep', payload: { ms: 0 } })));
    await worker.waitForLines((l) => l.msg.startsWith('DONE ') && queueOf(l) === a, 3, 'the three high tasks done', 15_000);
    const starts = worker.lines.filter((l) => l.msg.startsWith('START '));
    const firstHigh = starts.findIndex((l) => queueOf(l) === a);
    // at most one more low task: the one its sub-worker had fetched when the high ones came; then the three high ones in a row
    expect(firstHigh - lowStartedBefore).toBeLessThanOrEqual(1);
    expect(starts.slice(firstHigh, firstHigh + 3).map((l) => l.msg.split(' ')[1])).toEqual(['high_1', 'high_2', 'high_3']);
  }, 60_000);

  it('bad --queues: usage error, exit 2, naming the problem', async () => {
    const url = testRedisUrl();
    const cases: [string[], string][] = [
      [['--queues', 'a:6,a:1'], '--queues: a is given twice'],
      [['--queues', 'a:0'], 'the weight of a must be a whole number from 1 to 1000000, got 0'],
      [['--queues', 'a:6,,b'], '--queues: an empty entry'],
      [['--queues', 'bad name:2'], 'invalid queue name'],
      [['--queue', 'x', '--queues', 'a:1'], 'give --queue or --queues, not both'],
      [['--strict'], '--strict applies to --queues'],
    ];
    for (const [args, message] of cases) {
      const p = AppProcess.start('worker', ['1', ...args, '--redis', url]);
      const exit = await p.waitForExit(10_000);
      // the output's tail only when the code is wrong, so that a failure shows what the process printed
      expect({ args, code: exit.code, output: exit.code === 2 ? '' : p.tail() }).toEqual({ args, code: 2, output: '' });
      expect(p.stderr).toContain(message);
    }
  }, 60_000);
});

describe('WorkerPool with queues (the library)', () => {
  it('one consumer id in each queue, one subscriber, one heartbeat thread; a cancel reaches only its own queue\'s task; stop leaves every registry', async () => {
    const [x, y] = [newQueueName('lib-x'), newQueueName('lib-y')];
    const url = testRedisUrl();
    const redis = await clients.connect();
    const started: string[] = [];
    // a connection of its own name, so that its subscriber (`<name>-sub`) is told apart from
    // the subscribers of pools other test files run on the same server meanwhile
    const name = `it-queues-${x.slice(-8)}`;
    const own = await clients.connect(url, name);
    const pool = new WorkerPool({
      connection: own,
      queues: { [x]: 2, [y]: 1 },
      concurrency: 2,
      logger: new CaptureLogger(),
      handlers: {
        wait: (task, { signal }) =>
          new Promise<void>((resolve, reject) => {
            started.push(task.id);
            const timer = setTimeout(resolve, (task.payload as { ms: number }).ms);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason as Error);
            });
          }),
      },
    });
    await pool.start();
    try {
      // the same id is registered in both queues
      expect(await redis.zscore(queueKeys(x).consumers, pool.consumer.id)).not.toBeNull();
      expect(await redis.zscore(queueKeys(y).consumers, pool.consumer.id)).not.toBeNull();
      expect(pool.consumers.map((c) => c.id)).toEqual([pool.consumer.id, pool.consumer.id]);
      // one heartbeat thread connection, and one subscriber, on the wake and control channels of both queues
      const heartbeatName = ` name=taskq-heartbeat-${pool.consumer.id} `;
      await waitUntil(async () => (await clientList(redis)).some((l) => l.includes(heartbeatName)), {
        what: 'the heartbeat thread connected',
        timeoutMs: 10_000,
      });
      // one connection to the server (on a cluster: one to each node of the two queues, at most one per master)
      const heartbeats = (await clientList(redis)).filter((l) => l.includes(heartbeatName));
      expect(heartbeats.length).toBeGreaterThanOrEqual(1);
      expect(heartbeats.length).toBeLessThanOrEqual(masters(redis).length);
      // the subscriber holds the 6 channels (each queue's wake, the consumer's own wake, control): on one connection
      // (on a cluster, at most one per master; plain or sharded)
      const channels = (await connectionsNamed(redis, `${name}-sub`))
        .map((l) => Number(/ sub=(\d+) /.exec(l)?.[1] ?? 0) + Number(/ ssub=(\d+) /.exec(l)?.[1] ?? 0))
        .filter((n) => n > 0);
      expect(channels.reduce((a, b) => a + b, 0)).toBe(6);
      expect(channels.length).toBeLessThanOrEqual(masters(redis).length);

      // the same task id in both queues: a cancel of y's stops y's only
      const qx = new Queue({ queue: x, connection: redis });
      const qy = new Queue({ queue: y, connection: redis });
      await qx.enqueue({ id: 'same', type: 'wait', payload: { ms: 1500 } });
      await qy.enqueue({ id: 'same', type: 'wait', payload: { ms: 60_000 } });
      await waitUntil(() => started.length === 2, { what: 'both tasks started', timeoutMs: 10_000 });
      const cancelled = await qy.cancel('same', { waitMs: 10_000 });
      expect(cancelled.status).toBe('Cancelled');
      await waitUntil(async () => (await qx.status('same'))?.status === 'Done', { what: "x's task Done", timeoutMs: 10_000 });
      expect((await qy.status('same'))?.status).toBe('Cancelled');
      await qx.close();
      await qy.close();
    } finally {
      await pool.stop();
    }
    expect(await redis.zscore(queueKeys(x).consumers, pool.consumer.id)).toBeNull();
    expect(await redis.zscore(queueKeys(y).consumers, pool.consumer.id)).toBeNull();
  }, 30_000);

  it('one janitor returns a dead process\'s tasks in every queue it served', async () => {
    const [x, y] = [newQueueName('jan-x'), newQueueName('jan-y')];
    const url = testRedisUrl();
    const redis = await clients.connect();
    const worker = AppProcess.start('worker', ['2', '--queues', `${x}:1,${y}:1`, '--grace-ms', '0', '--redis', url]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    await fill(x, 1, 60_000, 'long_');
    await fill(y, 1, 60_000, 'long_');
    await worker.waitForLines(line.msgStarts('START '), 2, 'both long tasks started');
    worker.signal('SIGKILL');
    await worker.waitForExit();
    // a second worker, serving both, recovers both once the first one's heartbeats are stale
    const rescuer = AppProcess.start('worker', ['2', '--queues', `${x}:1,${y}:1`, '--stale-after-ms', '2000', '--heartbeat-ms', '500', '--redis', url]);
    const recovered = await rescuer.waitForLines(line.msgIncludes('missed its heartbeats; returned 1 task(s) to the queue'), 2, 'both recoveries', 20_000);
    expect(recovered.map(queueOf).sort()).toEqual([x, y].sort());
    await rescuer.waitForLines(line.msgStarts('START long_1'), 2, 'both tasks started again');
    expect(await redis.hget(queueKeys(x).recoveries, 'long_1')).toBe('1');
    expect(await redis.hget(queueKeys(y).recoveries, 'long_1')).toBe('1');
  }, 60_000);
});
