import { Consumer, Janitor, Queue, queueKeys } from '@taskq/queue';
import { AppProcess, killAllApps, line, type LogLine } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { InProcessPools } from './test-support/in-process-pool';
import { whereIs } from './test-support/queue-state';
import { recorded } from './test-support/recorded';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { StatusLog } from './test-support/status-log';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();
const pools = new InProcessPools();
const logs: StatusLog[] = [];

afterEach(async () => {
  await killAllApps();
  await pools.stopAll();
  for (const log of logs.splice(0)) await log.stop();
  await clients.close();
});

async function setup(label: string) {
  const name = newQueueName(label);
  const redis = await clients.connect();
  return { redis, keys: queueKeys(name), config: { queue: name }, queue: new Queue({ queue: name, connection: redis }) };
}

const refusals = (logger: CaptureLogger) => logger.lines.filter((l) => l.level === 'warn' && l.msg.includes(' refused: ')).map((l) => l.msg);

describe('a fetch whose task was recovered (library Consumers and Janitor in this process)', () => {
  it("refuses the zombie's late ack and fail: the task stays Done as recorded by the consumer that fetched it again", async () => {
    const { redis, keys, config, queue } = await setup('fence');
    const { id } = await queue.enqueue({ id: `${config.queue}-task`, type: 'sleep', payload: { ms: 1 } });
    const zombieLog = new CaptureLogger();
    const zombie = new Consumer({ ...config, id: `${config.queue}-A`, connection: redis, logger: zombieLog });
    await zombie.register();
    const [held] = (await zombie.fetch(['A-1'])).tasks;
    expect(held).toMatchObject({ id, attempt: 1 });
    const oldToken = held?.token ?? '';

    // A stops beating (here: its last heartbeat is a minute old); a janitor pass gives its task back
    await redis.zadd(keys.consumers, Date.now() - 60_000, zombie.id);
    const janitorLog = new CaptureLogger();
    const pass = await new Janitor({ ...config, staleAfterMs: 5000, connection: redis, logger: janitorLog }).runOnce();
    expect(pass.recovered.get(zombie.id)).toBe(1);
    // recovered: the interrupted run does not count as an attempt
    expect(await recorded(redis, keys, id)).toMatchObject({ status: 'Queued', attempt: 0, reason: `recovered from dead consumer ${zombie.id}` });
    expect(await whereIs(redis, keys, id)).toEqual(['ready']);

    // B fetches it under a new token and finishes it; A's token is no good in B's hands either
    const b = new Consumer({ ...config, id: `${config.queue}-B`, connection: redis, logger: new CaptureLogger() });
    await b.register();
    const [again] = (await b.fetch(['B-1'])).tasks;
    expect(again).toMatchObject({ id, attempt: 1 });
    expect(again?.token).not.toBe(oldToken);
    expect(await b.ack(id, 'B-1', oldToken)).toBe(false);
    expect(await b.ack(id, 'B-1', again?.token ?? '')).toBe(true);
    const done = await recorded(redis, keys, id);
    expect(done).toMatchObject({ status: 'Done', attempt: 1, worker: 'B-1' });
    const seq = await redis.get(keys.seq);

    // A wakes up and reports its outcome, too late: every report is refused, nothing is written
    expect(await zombie.ack(id, 'A-1', oldToken)).toBe(false);
    expect(await zombie.fail(id, 'A-1', oldToken, { mode: 'retry', reason: 'late failure', delayMs: 0 })).toBeUndefined();
    expect(await zombie.fail(id, 'A-1', oldToken, { mode: 'dead', reason: 'late failure' })).toBeUndefined();
    expect(refusals(zombieLog)).toEqual([
      `ack of ${id} refused: this fetch no longer holds the task (it was recovered or released)`,
      `retry of ${id} refused: this fetch no longer holds the task (it was recovered or released)`,
      `dead of ${id} refused: this fetch no longer holds the task (it was recovered or released)`,
    ]);
    expect(await recorded(redis, keys, id)).toEqual(done);
    expect(await redis.get(keys.seq)).toBe(seq);
    expect(await whereIs(redis, keys, id)).toEqual(['retained']);
    expect(await queue.history(id)).toEqual([]);
    expect(await queue.deadIds()).toEqual([]);
  });

  it('refuses the first token when the same consumer, presumed dead, registers again and fetches the task anew', async () => {
    const { redis, keys, config, queue } = await setup('fence-self');
    const { id } = await queue.enqueue({ id: `${config.queue}-task`, type: 'sleep', payload: { ms: 1 } });
    const logger = new CaptureLogger();
    const a = new Consumer({ ...config, id: `${config.queue}-A`, connection: redis, logger });
    await a.register();
    const [first] = (await a.fetch(['A-1'])).tasks;

    await redis.zadd(keys.consumers, Date.now() - 60_000, a.id);
    expect((await new Janitor({ ...config, staleAfterMs: 5000, connection: redis, logger: new CaptureLogger() }).runOnce()).recovered.get(a.id)).toBe(1);
    expect(await redis.zscore(keys.consumers, a.id)).toBeNull();

    // its next fetch finds it unregistered: it registers again and takes the task back, as a new fetch
    const [second] = (await a.fetch(['A-1'])).tasks;
    expect(logger.messages()).toContain(`consumer ${a.id} was not registered (presumed dead; its tasks went back to the queue); registered again`);
    expect(second).toMatchObject({ id, attempt: 1 });
    expect(second?.token).not.toBe(first?.token);
    const inProgress = await recorded(redis, keys, id);

    expect(await a.ack(id, 'A-1', first?.token ?? '')).toBe(false);
    expect(await a.fail(id, 'A-1', first?.token ?? '', { mode: 'retry', reason: 'stale', delayMs: 0 })).toBeUndefined();
    expect(await recorded(redis, keys, id)).toEqual(inProgress);
    expect(await queue.processingIds(a.id)).toEqual([id]);
    expect(refusals(logger)).toHaveLength(2);

    expect(await a.ack(id, 'A-1', second?.token ?? '')).toBe(true);
    expect(await recorded(redis, keys, id)).toMatchObject({ status: 'Done', attempt: 1 });
  });
});

describe('a worker pool presumed dead that fetches its own task again (library pool in this process)', () => {
  it('keeps the newer run tracked when the older one ends refused: a cancel still reaches it', async () => {
    const { redis, keys, config, queue } = await setup('fence-pool');
    const finishers: Array<() => void> = [];
    const signals: AbortSignal[] = [];
    // no heartbeat for a minute (and no janitor of its own: the test runs one): the janitor's verdict stands until the pool fetches again
    const { pool, consumer, logger } = await pools.start(config, {
      hold: (_task, { signal }) =>
        new Promise<void>((resolve, reject) => {
          signals.push(signal);
          finishers.push(resolve);
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    }, { concurrency: 2, heartbeatMs: 60_000, janitor: false });
    const { id } = await queue.enqueue({ id: `${config.queue}-task`, type: 'hold' });
    await waitUntil(() => signals.length === 1, { timeoutMs: 3000, what: 'the first run to start' });

    // A fetch is proof of life: the pool's idle sub-worker may still be asking for work (and so
    // refresh the heartbeat) right after the first run started; age the heartbeat until a janitor
    // pass finds it stale and recovers the task.
    const janitor = new Janitor({ ...config, staleAfterMs: 5000, connection: redis, logger: new CaptureLogger() });
    await waitUntil(
      async () => {
        await redis.zadd(keys.consumers, Date.now() - 60_000, consumer.id);
        return (await janitor.runOnce()).recovered.get(consumer.id) === 1;
      },
      { timeoutMs: 3000, what: 'the janitor to recover the task of the consumer presumed dead' },
    );
    // the recovery wakes the pool; its free sub-worker registers again and takes the task: a second run
    await waitUntil(() => signals.length === 2, { timeoutMs: 3000, what: 'the second run to start', details: () => logger.messages().join('\n') });
    expect(await recorded(redis, keys, id)).toMatchObject({ status: 'InProgress', attempt: 1 });

    // the first run succeeds now: its ack is refused, and the second run goes on
    finishers[0]?.();
    await waitUntil(() => refusals(logger).length === 1, { timeoutMs: 3000, what: "the first run's ack to be refused" });
    expect(await recorded(redis, keys, id)).toMatchObject({ status: 'InProgress', attempt: 1 });
    expect(pool.inFlight).toEqual([id]);

    const result = await queue.cancel(id, { waitMs: 3000 });
    expect(result).toEqual({ id, outcome: 'cancelled', status: 'Cancelled', cancelled: true });
    expect(signals[1]?.aborted).toBe(true);
    expect(await recorded(redis, keys, id)).toMatchObject({ status: 'Cancelled', attempt: 1 });
    expect(await whereIs(redis, keys, id)).toEqual(['cancelled']);
  });
});

describe('a CPU-bound task (worker processes)', () => {
  it('keeps its worker alive through heartbeats from the heartbeat thread: Done at attempt 1, never recovered, never run by the other worker', async () => {
    const { redis, keys, queue } = await setup('spin');
    const url = testRedisUrl();
    const log = await StatusLog.start(redis, queue.name);
    logs.push(log);
    const args = ['1', '--redis', url, '--queue', queue.name, '--heartbeat-ms', '200', '--stale-after-ms', '1000'];
    const workers = [AppProcess.start('worker', args), AppProcess.start('worker', args)];
    const consumers = await Promise.all(workers.map(async (w) => String((await w.waitForLine(line.poolReady, 'the pool-ready line'))['consumer'])));

    const { id } = await queue.enqueue({ id: `${queue.name}-spin`, type: 'spin', payload: { ms: 3000 } });
    const started = await log.waitFor(id, 'InProgress', 5000);
    const runner = workers.findIndex((w) => String(started.worker).startsWith(`worker-${w.pid}-`));
    expect(runner).toBeGreaterThanOrEqual(0);
    const [busy, other] = runner === 0 ? [workers[0], workers[1]] : [workers[1], workers[0]];
    const busyConsumer = consumers[runner] ?? '';

    // While its main thread spins, its heartbeat (Redis server time) keeps moving, well past the stale limit.
    const beat = await waitUntil(
      async () => {
        const score = Number(await redis.zscore(keys.consumers, busyConsumer));
        return score >= started.at + 1800 ? score : undefined;
      },
      { timeoutMs: 5000, intervalMs: 50, what: `a heartbeat of ${busyConsumer} 1.8 s into the spin` },
    );

    const done = await log.waitFor(id, 'Done', 10_000);
    // that beat came during the spin (the main thread's next fetch, after it, refreshes the score too)
    expect(beat).toBeLessThan(done.at);
    expect(done).toMatchObject({ attempt: 1, worker: started.worker });
    expect(done.at - started.at).toBeGreaterThanOrEqual(3000);
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Done']);
    expect(log.of(id).filter((r) => r.reason?.startsWith('recovered'))).toEqual([]);
    await busy?.waitForLine(line.msgStarts(`DONE ${id}`), `DONE ${id}`);
    expect(busy?.linesStartingWith(`DONE ${id}`).map((l: LogLine) => l['acked'])).toEqual([true]);
    expect(other?.linesStartingWith(`START ${id}`)).toEqual([]);
    // no janitor took the busy worker for dead, and it never had to register again
    expect(workers.flatMap((w) => w.lines.filter((l) => l.msg.startsWith('janitor:') && l['consumer'] === busyConsumer))).toEqual([]);
    expect(busy?.lines.filter((l) => l.msg.includes('presumed dead'))).toEqual([]);
    expect(workers.map((w) => w.exitInfo)).toEqual([undefined, undefined]);
  });

  it('taken by hand-off (worker --hand-off): its claim goes before the spin starts, so InProgress is published while it spins and Done 3 s later', async () => {
    const { redis, keys, queue } = await setup('spinho');
    const log = await StatusLog.start(redis, queue.name);
    logs.push(log);
    const worker = AppProcess.start('worker', ['1', '--hand-off', '--redis', testRedisUrl(), '--queue', queue.name]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    await waitUntil(async () => ((await redis.llen(keys.handOffWaiters)) >= 1 ? true : undefined), { timeoutMs: 5000, intervalMs: 20, what: 'the worker listed for hand-off' });

    const { id } = await queue.enqueue({ id: `${queue.name}-spin`, type: 'spin', payload: { ms: 3000 } });
    await log.waitFor(id, 'InProgress', 5000);
    const inProgressSeenAt = Date.now();
    await log.waitFor(id, 'Done', 10_000);
    // arrived while the spin held the worker's event loop, not with its Done (one message after the spin)
    expect(Date.now() - inProgressSeenAt).toBeGreaterThanOrEqual(2000);
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Done']);
    const start = await worker.waitForLine(line.msgStarts(`START ${id}`), `START ${id}`);
    expect(start['handOff']).toBe(true);
    expect(worker.exitInfo).toBeUndefined();
  });
});
