import { StatusRecorder } from '@taskq/recorder';
import { FENCE_ENCODING_FIELD, queueKeys } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { processingLists } from './test-support/queue-state';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

describe('two worker processes on one queue', () => {
  it('share 20 tasks: the producer sees 20/20 Done, each task runs exactly once, no processing list is left', async () => {
    const queue = newQueueName('share');
    const common = ['--redis', testRedisUrl(), '--queue', queue];
    const redis = await clients.connect();
    const keys = queueKeys(queue);

    const workers = [AppProcess.start('worker', ['2', ...common]), AppProcess.start('worker', ['3', ...common])];
    const ready = await Promise.all(workers.map((w) => w.waitForLine(line.poolReady, 'the pool-ready line')));
    expect(ready.map((l) => l['concurrency'])).toEqual([2, 3]);

    const producer = AppProcess.start('producer', ['20', '--min-ms', '200', '--max-ms', '600', '--json', ...common]);
    const exit = await producer.waitForExit(30_000);
    expect({ code: exit.code, signal: exit.signal, stderr: producer.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const summary = JSON.parse(producer.stdoutLines.at(-1) ?? 'null') as Record<string, unknown>;
    expect(summary).toMatchObject({ queue, total: 20, Done: 20, Failed: 0 });
    // Once it has printed its summary, nothing (a stray timer, an open connection) holds it.
    const summaryLine = producer.lines.find((l) => l.msg.startsWith('summary: 20/20 Done'));
    expect(exit.at - (summaryLine?.receivedAt ?? 0)).toBeLessThan(1000);

    // The recorded truth agrees, and every ack emptied its processing list.
    expect(await new StatusRecorder(redis, queueKeys(queue)).countByStatus()).toEqual({ Done: 20 });
    expect(await processingLists(redis, keys)).toEqual({});
    expect(await redis.llen(keys.ready)).toBe(0);
    expect(await redis.llen(keys.rejected)).toBe(0);

    // Stop both; after 'close' their whole output has been read.
    for (const w of workers) w.signal('SIGTERM');
    for (const w of workers) expect((await w.waitForExit(10_000)).code).toBe(0);

    const startsPerWorker = workers.map((w) => w.linesStartingWith('START '));
    for (const starts of startsPerWorker) expect(starts.length).toBeGreaterThan(0);
    const runs = new Map<string, number>();
    for (const l of startsPerWorker.flat()) runs.set(String(l['taskId']), (runs.get(String(l['taskId'])) ?? 0) + 1);
    const recordedIds = Object.keys(await redis.hgetall(keys.status)).sort();
    expect([...runs.keys()].sort()).toEqual(recordedIds);
    expect(recordedIds).toHaveLength(20);
    expect([...runs.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // Each worker used its own sub-workers only.
    workers.forEach((w, i) => {
      for (const l of startsPerWorker[i] ?? []) expect(String(l['worker'])).toMatch(new RegExp(`^worker-${w.pid}-\\d+$`));
    });
  });
});

describe('a hand-off worker beside a plain one (worker 2 --hand-off, worker 3)', () => {
  it('share 20 tasks: 20/20 Done, each run exactly once, the hand-off worker started tasks, no processing list, fence or hand-off entry is left', async () => {
    const queue = newQueueName('handoff');
    const common = ['--redis', testRedisUrl(), '--queue', queue];
    const redis = await clients.connect();
    const keys = queueKeys(queue);

    const handOff = AppProcess.start('worker', ['2', '--hand-off', ...common]);
    const plain = AppProcess.start('worker', ['3', ...common]);
    const ready = await Promise.all([handOff, plain].map((w) => w.waitForLine(line.poolReady, 'the pool-ready line')));
    expect(ready.map((l) => l['handOff'])).toEqual([true, undefined]);

    const producer = AppProcess.start('producer', ['20', '--min-ms', '50', '--max-ms', '300', '--json', ...common]);
    const exit = await producer.waitForExit(30_000);
    expect({ code: exit.code, signal: exit.signal, stderr: producer.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(producer.stdoutLines.at(-1) ?? 'null')).toMatchObject({ queue, total: 20, Done: 20, Failed: 0 });
    expect(await new StatusRecorder(redis, keys).countByStatus()).toEqual({ Done: 20 });
    expect(await processingLists(redis, keys)).toEqual({});
    expect(await redis.llen(keys.ready)).toBe(0);

    for (const w of [handOff, plain]) w.signal('SIGTERM');
    for (const w of [handOff, plain]) expect((await w.waitForExit(10_000)).code).toBe(0);
    // the stopped hand-off worker left the hand-off list; no task is fenced any more
    expect(await redis.llen(keys.handOffWaiters)).toBe(0);
    expect((await redis.hkeys(keys.fence)).filter((f) => f !== FENCE_ENCODING_FIELD)).toEqual([]);
    const starts = [handOff, plain].map((w) => w.linesStartingWith('START ').map((l) => String(l['taskId'])));
    expect(starts[0].length).toBeGreaterThan(0);
    const runs = new Map<string, number>();
    for (const id of starts.flat()) runs.set(id, (runs.get(id) ?? 0) + 1);
    expect(runs.size).toBe(20);
    expect([...runs.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  });
});
