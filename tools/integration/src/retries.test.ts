import { Queue, queueKeys, type QueueKeys, type RedisClient } from '@taskq/queue';
import type { TaskHandler } from '@taskq/worker-pool';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { InProcessPools } from './test-support/in-process-pool';
import { whereIs } from './test-support/queue-state';
import { recorded, recordedMany, waitForRecorded } from './test-support/recorded';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { StatusLog } from './test-support/status-log';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();
const pools = new InProcessPools();
let statusLog: StatusLog | undefined;

afterEach(async () => {
  await killAllApps();
  await pools.stopAll();
  await statusLog?.stop();
  statusLog = undefined;
  await clients.close();
});

interface Setup {
  readonly redis: RedisClient;
  readonly keys: QueueKeys;
  readonly queue: Queue;
  readonly log: StatusLog;
}

async function setup(label: string): Promise<Setup> {
  const name = newQueueName(label);
  const redis = await clients.connect();
  const log = await StatusLog.start(redis, name);
  statusLog = log;
  return { redis, keys: queueKeys(name), queue: new Queue({ queue: name, connection: redis }), log };
}

async function startWorker(queue: string, concurrency = 2): Promise<AppProcess> {
  const worker = AppProcess.start('worker', [String(concurrency), '--redis', testRedisUrl(), '--queue', queue]);
  await worker.waitForLine(line.poolReady, 'the pool-ready line');
  return worker;
}

const startsOf = (worker: AppProcess, taskId: string) =>
  worker.linesStartingWith(`START ${taskId}`).map((l) => l['attempt']);

describe('a task whose attempt fails (worker process)', () => {
  it('is recorded Retrying with the error and a runAt after its failure, then runs again and ends Done at attempt 2', async () => {
    const { redis, keys, queue, log } = await setup('retry');
    const worker = await startWorker(queue.name);
    const { id } = await queue.enqueue({
      id: `${queue.name}-once`,
      type: 'sleep',
      payload: { ms: 20, failAttempts: 1 },
      backoff: { type: 'fixed', delayMs: 200 },
    });

    const done = await waitForRecorded(redis, keys, id, 'Done', 10_000, () => worker.tail());
    expect(done.attempt).toBe(2);
    await log.waitFor(id, 'Done', 5000);
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Done']);
    const [, first, retrying, promoted, second] = log.of(id);
    expect(retrying).toMatchObject({ attempt: 1, reason: 'planned failure of attempt 1 (fails 1)', worker: first?.worker });
    // the failure happened after the 20 ms attempt; the retry is due 200 ms later on the same (server) clock
    expect(retrying?.at).toBeGreaterThanOrEqual((first?.at ?? Infinity) + 20);
    expect(retrying?.runAt).toBe((retrying?.at ?? NaN) + 200);
    const runAt = retrying?.runAt ?? NaN;
    expect(promoted?.at).toBeGreaterThanOrEqual(runAt);
    expect(second).toMatchObject({ status: 'InProgress', attempt: 2 });
    expect(second?.at).toBeGreaterThanOrEqual(runAt);
    expect((second?.at ?? Infinity) - runAt).toBeLessThan(1000);

    const history = await queue.history(id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ attempt: 1, error: 'planned failure of attempt 1 (fails 1)', worker: first?.worker });
    expect(history[0]?.stack).toMatch(/^Error: planned failure of attempt 1 \(fails 1\)\n\s+at /);
    // (stdout may trail the recorded status a little: wait for the last line before reading them)
    await worker.waitForLine(line.msgStarts(`DONE ${id}`), `DONE ${id}`);
    expect(worker.linesStartingWith(`FAILED ${id}`).map((l) => l.msg)).toEqual([
      expect.stringMatching(/: planned failure of attempt 1 \(fails 1\) -> Retrying, retry in 200 ms$/),
    ]);
    expect(startsOf(worker, id)).toEqual([1, 2]);
    expect(await whereIs(redis, keys, id)).toEqual(['retained']);
  });

  it('ends Dead after failing all 3 attempts: dead-letter list, last error, history of 3; requeueDead starts its attempts over', async () => {
    const { redis, keys, queue, log } = await setup('dead');
    const worker = await startWorker(queue.name);
    const { id } = await queue.enqueue({
      id: `${queue.name}-always`,
      type: 'sleep',
      payload: { ms: 5, failAttempts: 99 },
      backoff: { type: 'fixed', delayMs: 50 },
    });

    const dead = await waitForRecorded(redis, keys, id, 'Dead', 10_000, () => worker.tail());
    expect(dead).toMatchObject({ attempt: 3, reason: 'planned failure of attempt 3 (fails 99) (attempt 3 of 3)' });
    expect(await queue.deadIds()).toEqual([id]);
    expect(await whereIs(redis, keys, id)).toEqual(['dead']);
    await log.waitFor(id, 'Dead', 5000);
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Dead']);

    const letter = await queue.deadLetter(id);
    expect(letter.task).toMatchObject({ id, type: 'sleep', payload: { ms: 5, failAttempts: 99 }, maxAttempts: 3 });
    expect(letter.status).toEqual(dead);
    expect(letter.history.map((h) => [h.attempt, h.error])).toEqual([1, 2, 3].map((n) => [n, `planned failure of attempt ${n} (fails 99)`]));
    for (const entry of letter.history) {
      expect(entry.worker).toMatch(new RegExp(`^worker-${worker.pid}-\\d$`));
      // a trimmed stack: the message line and a few frames, not the whole trace
      const stack = entry.stack ?? '';
      expect(stack).toMatch(/^Error: planned failure of attempt \d \(fails 99\)\n\s+at /);
      expect(stack.split('\n').length).toBeLessThanOrEqual(8);
      expect(stack.length).toBeLessThanOrEqual(2000);
    }
    // nothing else happens to a dead task
    expect(await queue.requeueDead([`${queue.name}-unknown`])).toEqual([]);

    expect(await queue.requeueDead([id])).toEqual([id]);
    expect(await queue.deadIds()).toEqual([]);
    const requeued = await log.waitFor(id, (r) => r.seq > dead.seq, 5000);
    expect(requeued).toMatchObject({ status: 'Queued', attempt: 0, reason: 'requeued from the dead-letter list' });
    // it runs again from attempt 1 (the payload still fails every attempt) and is Dead again, history kept
    await log.waitFor(id, (r) => r.status === 'Dead' && r.seq > dead.seq, 10_000);
    const rerun = log.of(id).filter((r) => r.seq > dead.seq && r.status === 'InProgress');
    expect(rerun.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect((await queue.history(id)).map((h) => h.attempt)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(await queue.deadIds()).toEqual([id]);
    await worker.waitForLines(line.msgStarts(`FAILED ${id}`), 6, `six FAILED ${id} lines`);
    expect(startsOf(worker, id)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('keeps the worker process running through a synchronous throw and rejected promises, then runs a normal task', async () => {
    const { redis, keys, queue } = await setup('throws');
    const worker = await startWorker(queue.name, 1);
    const [badPayload, rejecting, normal] = await queue.enqueueMany([
      // the sleep handler throws a TypeError synchronously for a negative duration
      { id: `${queue.name}-sync`, type: 'sleep', payload: { ms: -1 }, maxAttempts: 1 },
      { id: `${queue.name}-reject`, type: 'sleep', payload: { ms: 1, failAttempts: 1 }, maxAttempts: 1 },
      { id: `${queue.name}-normal`, type: 'sleep', payload: { ms: 1 } },
    ]).then((tasks) => tasks.map((t) => t.id));

    await waitForRecorded(redis, keys, normal, 'Done', 10_000, () => worker.tail());
    const [a, b] = await recordedMany(redis, keys, [badPayload, rejecting]);
    expect(a).toMatchObject({ status: 'Dead', attempt: 1, reason: 'TypeError: sleep task needs payload.ms >= 0, got {"ms":-1} (attempt 1 of 1)' });
    expect(b).toMatchObject({ status: 'Dead', attempt: 1, reason: 'planned failure of attempt 1 (fails 1) (attempt 1 of 1)' });
    expect(worker.exitInfo).toBeUndefined();
    expect(worker.stderr).toBe('');
    // still serving: a task enqueued now runs too
    const { id: later } = await queue.enqueue({ id: `${queue.name}-later`, type: 'sleep', payload: { ms: 1 } });
    await waitForRecorded(redis, keys, later, 'Done', 5000, () => worker.tail());
    expect(worker.exitInfo).toBeUndefined();
  });
});

describe('handlers that throw anything (library pool in this process)', () => {
  it('records each non-Error throw and rejection Dead with a readable reason, and the pool keeps running', async () => {
    const { redis, keys, queue } = await setup('non-errors');
    const circular: Record<string, unknown> = { name: 'loop' };
    circular['self'] = circular;
    // neither JSON nor String() can turn these into text
    const unprintable = {
      toJSON: () => {
        throw new Error('no JSON');
      },
      toString: () => {
        throw new Error('no text');
      },
    };
    const stackless = new Error('its stack getter throws');
    Object.defineProperty(stackless, 'stack', {
      get: () => {
        throw new Error('no stack');
      },
    });
    // Handlers that throw or reject with non-Errors: how each is recorded is what this test checks.
    /* eslint-disable @typescript-eslint/only-throw-error, @typescript-eslint/prefer-promise-reject-errors */
    const thrown: Record<string, () => unknown> = {
      string: () => {
        throw 'boom';
      },
      number: () => {
        throw 42;
      },
      null: () => {
        throw null;
      },
      undefined: () => {
        throw undefined;
      },
      object: () => {
        throw { code: 'E42' };
      },
      circular: () => {
        throw circular;
      },
      unprintable: () => {
        throw unprintable;
      },
      stackless: () => {
        throw stackless;
      },
      rejectArray: () => Promise.reject(['a', 1]),
      rejectLater: () => new Promise((_, reject) => setTimeout(() => reject('late'), 10)),
      thenable: () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(7) }),
    };
    /* eslint-enable @typescript-eslint/only-throw-error, @typescript-eslint/prefer-promise-reject-errors */
    const handlers: Record<string, TaskHandler> = { ok: () => undefined };
    for (const [type, fn] of Object.entries(thrown)) handlers[type] = () => fn();
    const { pool, logger } = await pools.start({ queue: queue.name }, handlers, { concurrency: 3 });

    const types = Object.keys(thrown);
    const tasks = await queue.enqueueMany(types.map((type) => ({ id: `${queue.name}-${type}`, type, maxAttempts: 1 })));
    const ids = tasks.map((t) => t.id);
    const finals = await waitUntil(
      async () => {
        const records = await recordedMany(redis, keys, ids);
        return records.every((r) => r?.status === 'Dead') ? records : undefined;
      },
      { timeoutMs: 10_000, what: 'every throwing task to be Dead', details: () => logger.messages().slice(-10).join('\n') },
    );
    const reasons = Object.fromEntries(types.map((type, i) => [type, finals[i]?.reason]));
    const suffix = ' (attempt 1 of 1)';
    expect(reasons).toEqual({
      string: `boom${suffix}`,
      number: `non-Error thrown: 42${suffix}`,
      null: `non-Error thrown: null${suffix}`,
      undefined: `non-Error thrown: undefined${suffix}`,
      object: `non-Error thrown: {"code":"E42"}${suffix}`,
      circular: `non-Error thrown: [object Object]${suffix}`,
      unprintable: `a thrown value that cannot be converted to text${suffix}`,
      stackless: `its stack getter throws${suffix}`,
      rejectArray: `non-Error thrown: ["a",1]${suffix}`,
      rejectLater: `late${suffix}`,
      thenable: `non-Error thrown: 7${suffix}`,
    });
    // a non-Error has no stack to keep
    const history = await queue.history(`${queue.name}-object`);
    expect(history).toEqual([expect.objectContaining({ attempt: 1, error: 'non-Error thrown: {"code":"E42"}' })]);
    expect(history[0]?.stack).toBeUndefined();
    expect((await queue.deadIds()).sort()).toEqual([...ids].sort());

    expect(pool.currentState).toBe('running');
    const { id: ok } = await queue.enqueue({ id: `${queue.name}-ok`, type: 'ok' });
    await waitForRecorded(redis, keys, ok, 'Done', 5000, () => logger.messages().slice(-10).join('\n'));
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([]);
  });

  it('requeueDead and requeueAllDead give dead tasks a new life: once their handler works, they end Done at attempt 1', async () => {
    const { redis, keys, queue, log } = await setup('requeue');
    let broken = true;
    const { logger } = await pools.start({ queue: queue.name }, {
      flaky: () => {
        if (broken) throw new Error('downstream unavailable');
      },
    }, { concurrency: 3 });
    const ids = ['a', 'b', 'c'].map((s) => `${queue.name}-${s}`);
    await queue.enqueueMany(ids.map((id) => ({ id, type: 'flaky', maxAttempts: 2, backoff: { type: 'fixed' as const, delayMs: 20 } })));
    await waitUntil(async () => (await queue.deadIds()).length === 3, {
      timeoutMs: 10_000,
      what: 'all three tasks in the dead-letter list',
      details: () => log.describe(ids),
    });
    for (const r of await recordedMany(redis, keys, ids)) {
      expect(r).toMatchObject({ status: 'Dead', attempt: 2, reason: 'downstream unavailable (attempt 2 of 2)' });
    }

    broken = false;
    const [first, ...rest] = ids as [string, ...string[]];
    expect(await queue.requeueDead([first])).toEqual([first]);
    const done = await waitForRecorded(redis, keys, first, 'Done', 5000);
    expect(done.attempt).toBe(1);
    expect((await queue.deadIds()).sort()).toEqual([...rest].sort());
    // already requeued: not in the dead-letter list any more, so nothing happens
    expect(await queue.requeueDead([first])).toEqual([]);

    expect(await queue.requeueAllDead()).toBe(2);
    expect(await queue.deadIds()).toEqual([]);
    for (const id of rest) {
      expect(await waitForRecorded(redis, keys, id, 'Done', 5000)).toMatchObject({ attempt: 1 });
      const seen = log.of(id);
      expect(seen.find((r) => r.reason === 'requeued from the dead-letter list')).toMatchObject({ status: 'Queued', attempt: 0 });
      expect((await queue.history(id)).map((h) => h.attempt)).toEqual([1, 2]);
      expect(await whereIs(redis, keys, id)).toEqual(['retained']);
    }
    expect(await recorded(redis, keys, first)).toMatchObject({ status: 'Done' });
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
