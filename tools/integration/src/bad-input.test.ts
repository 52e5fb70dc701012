import { Queue, queueKeys } from '@taskq/queue';
import { decodeStatusRecord } from '@taskq/recorder';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { closedPort } from './test-support/closed-port';
import { existingKeys } from './test-support/queue-state';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

const BAD_COUNTS: Array<[string, string[], RegExp]> = [
  ['abc', ['abc'], /must be a whole number >= 1, got "abc"/],
  ['0', ['0'], /must be a whole number >= 1, got "0"/],
  ['-3', ['-3'], /must be a whole number >= 1, got "-3"/],
  ['1.5', ['1.5'], /must be a whole number >= 1, got "1.5"/],
  // JavaScript's Number() reads these as 10 and 16: a count is decimal digits
  ['1e1', ['1e1'], /must be a whole number >= 1, got "1e1": write it in decimal digits \(0-9\) only/],
  ['0x10', ['0x10'], /must be a whole number >= 1, got "0x10": write it in decimal digits \(0-9\) only/],
  ['an unknown flag', ['3', '--frobnicate'], /Unknown argument: frobnicate/],
];

/** Runs an app that must refuse its arguments: exit 2, usage and the reason on stderr, nothing on stdout. */
async function expectUsageError(app: 'producer' | 'worker', args: string[], reason: RegExp, queue: string): Promise<void> {
  const proc = AppProcess.start(app, [...args, '--redis', testRedisUrl(), '--queue', queue]);
  const exit = await proc.waitForExit(10_000);
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 2, signal: null });
  expect(proc.stderr).toContain(app === 'producer' ? 'producer [count] [options]' : 'worker [concurrency] [options]');
  expect(proc.stderr).toContain('--queue');
  expect(proc.stderr).toMatch(reason);
  expect(proc.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(proc.stdoutLines).toEqual([]);
}

describe('producer arguments', () => {
  it.each(BAD_COUNTS)('count %s: exit 2 with the usage on stderr, nothing enqueued', async (_, args, reason) => {
    const queue = newQueueName('bad-producer');
    const redis = await clients.connect();
    await expectUsageError('producer', args, reason, queue);
    expect(await existingKeys(redis, queueKeys(queue))).toEqual([]);
  });

  it('count over the limit: exit 2 with the usage on stderr, nothing enqueued', async () => {
    const queue = newQueueName('bad-producer');
    const redis = await clients.connect();
    await expectUsageError('producer', ['1000000001'], /count must be at most 1000000000, got "1000000001"/, queue);
    expect(await existingKeys(redis, queueKeys(queue))).toEqual([]);
  });

  it.each([[''], ['42']])('--id-prefix %j (all-digit ids): exit 2 with the usage on stderr, nothing enqueued', async (prefix) => {
    const queue = newQueueName('bad-prefix');
    const redis = await clients.connect();
    await expectUsageError('producer', ['3', '--id-prefix', prefix], /--id-prefix needs a character other than a digit/, queue);
    expect(await existingKeys(redis, queueKeys(queue))).toEqual([]);
  });

  it.each([['a b'], ['a"b'], ['a\\b'], ['a\u0085b']])('--id-prefix %j (not allowed in a task id): exit 2 with the usage on stderr, nothing enqueued', async (prefix) => {
    const queue = newQueueName('bad-prefix');
    const redis = await clients.connect();
    await expectUsageError('producer', ['3', '--id-prefix', prefix], /--id-prefix must be at most 200 characters without spaces, quotes, backslashes/, queue);
    expect(await existingKeys(redis, queueKeys(queue))).toEqual([]);
  });
});

describe('worker arguments', () => {
  it.each(BAD_COUNTS)('concurrency %s: exit 2 with the usage on stderr, never registers', async (_, args, reason) => {
    const queue = newQueueName('bad-worker');
    const redis = await clients.connect();
    // A task is waiting: a worker that started anyway would take it.
    await new Queue({ queue, connection: redis }).enqueue({ id: `${queue}-task`, type: 'sleep', payload: { ms: 1 } });
    const before = await existingKeys(redis, queueKeys(queue));
    await expectUsageError('worker', args, reason, queue);
    expect(await existingKeys(redis, queueKeys(queue))).toEqual(before);
    expect(await redis.lrange(queueKeys(queue).ready, 0, -1)).toEqual([`${queue}-task`]);
  });
});

describe('unreachable Redis', () => {
  it.each(['producer', 'worker'] as const)('%s exits 1 within seconds, naming the address with the password redacted', async (app) => {
    const port = await closedPort();
    const startedAt = Date.now();
    const proc = AppProcess.start(app, ['3', '--redis', `redis://:secret@127.0.0.1:${port}`, '--connect-timeout-ms', '500']);
    const exit = await proc.waitForExit(10_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
    expect(exit.at - startedAt).toBeLessThan(5000);
    expect(proc.stderr).toContain(`redis://:***@127.0.0.1:${port}`);
    expect(proc.stderr).toMatch(/^error: cannot connect to Redis/);
    expect(proc.stderr).not.toContain('secret');
    expect(proc.stdoutLines.join('\n')).not.toContain('secret');
    expect(proc.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('tasks a worker cannot run', () => {
  it('records a task with an invalid stored payload and one of an unknown type Failed, then still runs a normal task', async () => {
    const queue = newQueueName('poison');
    const keys = queueKeys(queue);
    const redis = await clients.connect();
    const worker = AppProcess.start('worker', ['1', '--redis', testRedisUrl(), '--queue', queue]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');

    // Written behind the Queue's back, the way a buggy producer or a corrupted hash would.
    const garbled = `${queue}-garbled`;
    await redis.hset(keys.tasks, garbled, '{"type":"sleep","payload":');
    await redis.lpush(keys.ready, garbled);
    const q = new Queue({ queue, connection: redis });
    const { id: unknownType } = await q.enqueue({ id: `${queue}-unknown`, type: 'no-such-type', payload: { ms: 1 } });
    const { id: normal } = await q.enqueue({ id: `${queue}-normal`, type: 'sleep', payload: { ms: 50 } });

    const ids = [garbled, unknownType, normal];
    const finals = await waitUntil(
      async () => {
        const raws = await redis.hmget(keys.status, ...ids);
        const records = raws.map((raw) => (raw === null ? undefined : decodeStatusRecord(raw)));
        return records.every((r) => r?.status === 'Done' || r?.status === 'Failed') ? records : undefined;
      },
      { timeoutMs: 10_000, what: 'all three tasks to reach a final status', details: () => worker.tail() },
    );
    expect(finals[0]).toMatchObject({ status: 'Failed', attempt: 1, reason: `task ${garbled}: payload is not valid JSON` });
    expect(finals[1]).toMatchObject({ status: 'Failed', attempt: 1, reason: 'no handler for task type "no-such-type"' });
    expect(finals[2]).toMatchObject({ status: 'Done', attempt: 1 });
    expect((await redis.lrange(keys.rejected, 0, -1)).sort()).toEqual([garbled, unknownType].sort());
    expect(worker.linesStartingWith('REJECT ').map((l) => l['taskId']).sort()).toEqual([garbled, unknownType].sort());
    await worker.waitForLine(line.msgStarts(`DONE ${normal}`), `DONE ${normal}`);
    expect(worker.exitInfo).toBeUndefined();

    worker.signal('SIGTERM');
    expect((await worker.waitForExit(10_000)).code).toBe(0);
  });
});
