import { Queue, queueKeys } from '@taskq/queue';
import { type StatusRecord } from '@taskq/recorder';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { CommandLog, heartbeatConsumer, isFetchCall, isHeartbeatCall, LOG_EVERY_COMMAND, type LoggedCommand } from './test-support/command-log';
import { whereIs } from './test-support/queue-state';
import { recorded } from './test-support/recorded';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { StatusLog } from './test-support/status-log';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();
const logs: StatusLog[] = [];
const servers: RedisServer[] = [];

afterEach(async () => {
  await killAllApps();
  for (const log of logs.splice(0)) await log.stop();
  await clients.close();
  for (const server of servers.splice(0)) await server.stop();
});

/** A queue with a StatusLog on it and, optionally, worker processes serving it. */
async function setup(label: string, workers: number, url = testRedisUrl(), workerArgs: readonly string[] = []) {
  const name = newQueueName(label);
  const redis = await clients.connect(url);
  const log = await StatusLog.start(redis, name);
  logs.push(log);
  const procs = Array.from({ length: workers }, () => AppProcess.start('worker', ['1', '--redis', url, '--queue', name, ...workerArgs]));
  const consumers = await Promise.all(procs.map(async (w) => String((await w.waitForLine(line.poolReady, 'the pool-ready line'))['consumer'])));
  return { redis, keys: queueKeys(name), queue: new Queue({ queue: name, connection: redis }), log, workers: procs, consumers };
}

/**
 * The task's records from its Delayed one up to its first start, checked for
 * "not before, and soon after, its due time". `expectedRunAt` is the producer's
 * estimate; delayMs is measured on the Redis server's clock, so the recorded
 * due time is the truth (on this one machine, within a few ms of the estimate).
 */
async function expectStartedOnTime(log: StatusLog, taskId: string, expectedRunAt: number): Promise<StatusRecord> {
  const started = await log.waitFor(taskId, 'InProgress', expectedRunAt - Date.now() + 5000);
  expect(log.statuses(taskId).slice(0, 3)).toEqual(['Delayed', 'Queued', 'InProgress']);
  const [delayed, queued] = log.of(taskId);
  const runAt = delayed?.runAt as number;
  expect(Math.abs(runAt - expectedRunAt)).toBeLessThan(250);
  // Redis server time of the promotion and of the start: not before the due time, and within a second of it
  expect(queued?.at).toBeGreaterThanOrEqual(runAt);
  expect(started.at).toBeGreaterThanOrEqual(runAt);
  expect(started.at - runAt).toBeLessThan(1000);
  expect(started.attempt).toBe(1);
  return started;
}

describe('delayed tasks (worker process)', () => {
  it('delayMs: Delayed (in the delayed set, with runAt) until due, while other tasks run; then starts within 1 s after its due time', async () => {
    const { redis, keys, queue, log, workers } = await setup('delay', 1);
    const task = await queue.enqueue({ id: `${queue.name}-later`, type: 'sleep', payload: { ms: 1 }, delayMs: 1500 });
    const record = await recorded(redis, keys, task.id);
    expect(record).toMatchObject({ status: 'Delayed', attempt: 0 });
    // due 1500 ms after the enqueue, on the Redis server's clock (the same machine's clock here)
    const runAt = record?.runAt as number;
    expect(runAt - task.enqueuedAt).toBeGreaterThanOrEqual(1500 - 50);
    expect(runAt - task.enqueuedAt).toBeLessThan(1500 + 250);
    expect(await redis.zscore(keys.delayed, task.id)).toBe(String(runAt));
    expect(await whereIs(redis, keys, task.id)).toEqual(['delayed']);
    expect(await queue.delayedCount()).toBe(1);

    // a task enqueued after it, without delay, runs first; the delayed one is still waiting meanwhile
    const { id: now } = await queue.enqueue({ id: `${queue.name}-now`, type: 'sleep', payload: { ms: 1 } });
    const nowDone = await log.waitFor(now, 'Done', 5000);
    expect(nowDone.at).toBeLessThan(runAt);
    // when that one was Done, the delayed task had no other status yet
    expect(log.of(task.id).filter((r) => r.at <= nowDone.at).map((r) => r.status)).toEqual(['Delayed']);

    await expectStartedOnTime(log, task.id, runAt);
    await log.waitFor(task.id, 'Done', 5000);
    await workers[0]?.waitForLine(line.msgStarts(`DONE ${task.id}`), `DONE ${task.id}`);
    expect(workers[0]?.linesStartingWith(`START ${task.id}`)).toHaveLength(1);
    expect(await queue.delayedCount()).toBe(0);
  });

  it('runAt (a Date or ms): Delayed until that time, then starts within 1 s after it; a runAt in the past runs at once', async () => {
    const { redis, keys, queue, log } = await setup('run-at', 1);
    const soon = Date.now() + 1200;
    const [byDate, byMs, past] = await queue.enqueueMany([
      { id: `${queue.name}-date`, type: 'sleep', payload: { ms: 1 }, runAt: new Date(soon) },
      { id: `${queue.name}-ms`, type: 'sleep', payload: { ms: 1 }, runAt: soon + 300 },
      { id: `${queue.name}-past`, type: 'sleep', payload: { ms: 1 }, runAt: Date.now() - 60_000 },
    ]);
    expect(await recorded(redis, keys, past?.id ?? '')).toMatchObject({ status: expect.stringMatching(/^(Queued|InProgress|Done)$/) as unknown });
    await log.waitFor(past?.id ?? '', 'Done', 5000);
    expect(log.statuses(past?.id ?? '')).toEqual(['Queued', 'InProgress', 'Done']);

    await expectStartedOnTime(log, byDate?.id ?? '', soon);
    await expectStartedOnTime(log, byMs?.id ?? '', soon + 300);
    await log.waitFor(byMs?.id ?? '', 'Done', 5000);
  });
});

describe('idle workers', () => {
  it('do not poll Redis in a loop: 3 idle worker processes make a few fetch calls per second at most, and wake for a delayed task on time', async () => {
    // A server of this test's own, whose SLOWLOG records every command: fetch calls are counted by their KEYS.
    const server = await startRedisServer({ args: LOG_EVERY_COMMAND });
    servers.push(server);
    const { redis, keys, queue, log, consumers } = await setup('idle', 3, server.url, ['--heartbeat-ms', '500', '--stale-after-ms', '5000']);
    const commands = new CommandLog(await clients.connectServer(server.url, 'taskq-it-admin'));
    const isFetch = isFetchCall(keys);
    const isBeat = isHeartbeatCall(keys);
    const beatsOf = (all: LoggedCommand[], consumer: string) => all.filter((c) => isBeat(c) && heartbeatConsumer(c) === consumer).length;
    /** At most 2 fetch calls per worker per second: a 1 s poll passes, a busy poll (or a 100 ms one) does not. */
    const bound = (ms: number) => Math.ceil(consumers.length * 2 * (ms / 1000));

    // Phase 1: no task at all, for as long as each worker takes to beat 6 times (~3 s at --heartbeat-ms 500).
    await commands.reset();
    const idleFrom = Date.now();
    const idle = await waitUntil(
      async () => {
        const all = await commands.read();
        return consumers.every((c) => beatsOf(all, c) >= 6) ? all : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'six heartbeats from each of the 3 workers' },
    );
    const idleMs = Date.now() - idleFrom;
    const idleFetches = idle.filter(isFetch);
    expect(idleMs).toBeGreaterThanOrEqual(2000);
    expect(idle.length).toBeGreaterThan(18); // the log did see the heartbeats (and so would see fetches)
    expect(idleFetches.length).toBeLessThanOrEqual(bound(idleMs));

    // Phase 2: one task due in 2 s. The enqueue wakes every worker once; each then sleeps until the due time.
    await commands.reset();
    const task = await queue.enqueue({ id: `${queue.name}-due`, type: 'sleep', payload: { ms: 1 }, delayMs: 2000 });
    const runAt = task.enqueuedAt + 2000;
    await expectStartedOnTime(log, task.id, runAt);
    const waitMs = Date.now() - task.enqueuedAt;
    const dueFetches = (await commands.read()).filter(isFetch);
    expect(dueFetches.length).toBeGreaterThanOrEqual(1);
    expect(dueFetches.length).toBeLessThanOrEqual(bound(waitMs));
    await log.waitFor(task.id, 'Done', 5000);
    expect(await redis.zcard(keys.delayed)).toBe(0);
  });
});
