import { Redis } from 'ioredis';
import { Monitor } from '@taskq/monitor';
import { chain, connectRedis, Consumer, flowKeys, Flows, Queue, queueKeys, type QueueConfig } from '@taskq/queue';
import { silentLogger, StatusRecorder } from '@taskq/recorder';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { ConnectionGate } from './test-support/connection-gate';
import { closeClient, newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { withTimeout, waitUntil } from './test-support/wait';

/**
 * A Monitor whose subscriber connection goes through a ConnectionGate, so the
 * test decides when it may reconnect; everything else talks to Redis directly.
 */
class GatedMonitor {
  readonly logger = new CaptureLogger();
  readonly subscribers: Redis[] = [];
  readonly monitor: Monitor;

  constructor(redis: Redis, readonly gate: ConnectionGate, config: QueueConfig, readonly connectionName: string) {
    // commands go on `redis`; the subscriber connection (duplicate()) goes through the gate
    const commands = Object.create(redis) as Redis;
    commands.duplicate = () => {
      const subscriber = new Redis({
        host: '127.0.0.1',
        port: gate.port,
        connectionName,
        // Retry often, so the reconnect follows soon after the gate opens.
        retryStrategy: () => 100,
      });
      this.subscribers.push(subscriber);
      return subscriber;
    };
    this.monitor = new Monitor({ ...config, connection: commands, logger: this.logger, log: true });
  }

  get subscriber(): Redis {
    const s = this.subscribers[0];
    if (!s) throw new Error('the monitor has not opened its subscriber connection');
    return s;
  }

  /** Resolves when the subscriber connection has closed. */
  closed(): Promise<void> {
    return new Promise((resolve) => this.subscriber.once('close', () => resolve()));
  }

  async stop(): Promise<void> {
    await this.monitor.stop().catch(() => undefined);
    await Promise.all(this.subscribers.map(closeClient));
    await this.gate.close();
  }
}

const clients = new RedisClients();
const monitors: GatedMonitor[] = [];
const servers: RedisServer[] = [];

afterEach(async () => {
  await killAllApps();
  for (const gated of monitors.splice(0)) await gated.stop();
  // Connections first: a client of a stopped server would be left reconnecting.
  await clients.close();
  for (const server of servers.splice(0)) await server.stop();
});

/** One task fetched by a library Consumer: recorded InProgress, held in its processing list under `token`. */
async function taskInProgress(redis: Redis, config: QueueConfig): Promise<{ taskId: string; consumer: Consumer; token: string }> {
  const { id: taskId } = await new Queue({ ...config, connection: redis }).enqueue({ id: `${config.queue}-task`, type: 'sleep', payload: { ms: 1 } });
  const consumer = new Consumer({ ...config, id: `${config.queue}-consumer`, connection: redis, logger: silentLogger });
  await consumer.register();
  const fetched = await consumer.fetch(['it-worker-1']);
  expect(fetched.tasks.map((f) => f.id)).toEqual([taskId]);
  return { taskId, consumer, token: (fetched.tasks[0] as { token: string }).token };
}

async function subscribersOf(redis: Redis, channel: string): Promise<number> {
  const reply = (await redis.pubsub('NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

describe('Monitor losing its subscriber connection', () => {
  it('resolves waitFor with Done when the task finished while it was disconnected (CLIENT KILL)', async () => {
    const url = testRedisUrl();
    const config = { queue: newQueueName('mon-kill') };
    const keys = queueKeys(config.queue);
    const redis = await clients.connectServer(url);
    const admin = await clients.connectServer(url, 'taskq-it-admin');
    const { taskId, consumer, token } = await taskInProgress(redis, config);

    const gated = new GatedMonitor(redis, await ConnectionGate.open(Number(new URL(url).port)), config, `${config.queue}-sub`);
    monitors.push(gated);
    await withTimeout(gated.monitor.start(), 5000, 'the monitor to subscribe');
    const done = gated.monitor.waitFor([taskId], ['Done'], { timeoutMs: 15_000 });
    done.catch(() => undefined); // awaited below; if the test fails first, stop() rejects it unobserved
    await waitUntil(() => gated.monitor.latest(taskId)?.status === 'InProgress', { timeoutMs: 5000, what: 'the monitor to read InProgress' });
    expect(await subscribersOf(admin, keys.events)).toBe(1);

    // Break the subscriber's connection on the server side, and keep it from coming back.
    gated.gate.shut();
    const closed = gated.closed();
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const id = /(?:^|\n)id=(\d+) .*? name=(\S+)/g;
    const mine = [...list.matchAll(id)].filter((m) => m[2] === gated.connectionName).map((m) => m[1]);
    expect(mine).toHaveLength(1);
    expect(await admin.client('KILL', 'ID', mine[0])).toBe(1);
    await withTimeout(closed, 5000, 'the monitor subscriber connection to close after CLIENT KILL');

    // The task finishes now: its Done is published while nobody listens.
    expect(await subscribersOf(admin, keys.events)).toBe(0);
    expect(await consumer.ack(taskId, 'it-worker-1', token)).toBe(true);
    expect(await new StatusRecorder(redis, queueKeys(config.queue)).get(taskId)).toMatchObject({ status: 'Done', attempt: 1 });
    await waitUntil(() => gated.gate.refused > 0, { timeoutMs: 5000, what: 'the subscriber to try to reconnect' });
    expect(await subscribersOf(admin, keys.events)).toBe(0);
    expect(gated.monitor.latest(taskId)?.status).toBe('InProgress');

    gated.gate.reopen();
    const records = await done;
    expect(records.get(taskId)).toMatchObject({ id: taskId, status: 'Done', attempt: 1, worker: 'it-worker-1' });
    expect(gated.logger.messages()).toContain('[Monitor] Subscriber reconnected, resyncing');
    expect(await subscribersOf(admin, keys.events)).toBe(1);
  });

  it('resolves waitFor with Done after redis-server restarts (AOF) while the task finishes', async () => {
    const server: RedisServer = await startRedisServer({ persistence: true });
    servers.push(server);
    const config = { queue: newQueueName('mon-restart') };
    const keys = queueKeys(config.queue);
    const redis = await clients.connectServer(server.url);
    const { taskId, token } = await taskInProgress(redis, config);

    const gated = new GatedMonitor(redis, await ConnectionGate.open(server.port), config, `${config.queue}-sub`);
    monitors.push(gated);
    await withTimeout(gated.monitor.start(), 5000, 'the monitor to subscribe');
    const done = gated.monitor.waitFor([taskId], ['Done'], { timeoutMs: 15_000 });
    done.catch(() => undefined); // awaited below; if the test fails first, stop() rejects it unobserved
    await waitUntil(() => gated.monitor.latest(taskId)?.status === 'InProgress', { timeoutMs: 5000, what: 'the monitor to read InProgress' });

    gated.gate.shut();
    const closed = gated.closed();
    const pidBefore = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(pidBefore);
    await withTimeout(closed, 5000, 'the monitor subscriber connection to close when redis-server stopped');

    // A fresh connection to the restarted server: the processing list and the
    // fencing token survived, so the ack is accepted.
    const after = clients.adopt(await connectRedis(server.url, { connectTimeoutMs: 5000 }));
    expect(await after.lrange(keys.processing(`${config.queue}-consumer`), 0, -1)).toEqual([taskId]);
    const consumer = new Consumer({ ...config, id: `${config.queue}-consumer`, connection: after, logger: silentLogger });
    expect(await consumer.ack(taskId, 'it-worker-1', token)).toBe(true);
    expect(await subscribersOf(after, keys.events)).toBe(0);
    await waitUntil(() => gated.gate.refused > 0, { timeoutMs: 5000, what: 'the subscriber to try to reconnect' });
    expect(gated.monitor.latest(taskId)?.status).toBe('InProgress');

    gated.gate.reopen();
    const records = await done;
    expect(records.get(taskId)).toMatchObject({ id: taskId, status: 'Done', attempt: 1 });
    expect(gated.logger.messages()).toContain('[Monitor] Subscriber reconnected, resyncing');
  });

  it('resolves waitForFlow with FlowDone when the flow ended while it was disconnected (CLIENT KILL)', async () => {
    const url = testRedisUrl();
    const config = { queue: newQueueName('mon-flow') };
    const redis = await clients.connectServer(url);
    const admin = await clients.connectServer(url, 'taskq-it-admin');
    const flows = new Flows({ ...config, connection: redis });
    const { id } = await flows.add(chain({ name: 'a', type: 'x' }, { name: 'b', type: 'x' }));
    const consumer = new Consumer({ ...config, id: `${config.queue}-consumer`, connection: redis, logger: silentLogger });
    await consumer.register();

    const gated = new GatedMonitor(redis, await ConnectionGate.open(Number(new URL(url).port)), config, `${config.queue}-sub`);
    monitors.push(gated);
    await withTimeout(gated.monitor.start(), 5000, 'the monitor to subscribe');
    const events: string[] = [];
    gated.monitor.onFlowEvent((e) => {
      if (e.flow === id) events.push(`${e.status}${e.step ? ` ${e.step} ${e.stepStatus}` : ''}`);
    });
    const ended = gated.monitor.waitForFlow(id, { timeoutMs: 15_000 });
    ended.catch(() => undefined); // awaited below; if the test fails first, stop() rejects it unobserved
    await waitUntil(async () => (await subscribersOf(admin, flowKeys().events)) === 1, { timeoutMs: 5000, what: 'the monitor to subscribe to flow events' });
    // step a runs while the monitor listens
    const [a] = (await consumer.fetch(['w'])).tasks;
    await consumer.ack(a.id, a.worker, a.token, '1');
    await consumer.flowNoticesMoved();
    await waitUntil(() => events.includes('FlowRunning a Done'), { timeoutMs: 5000, what: 'the event of step a' });

    // the subscriber's connection breaks and stays away while step b runs and the flow ends
    gated.gate.shut();
    const closed = gated.closed();
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const mine = [...list.matchAll(/(?:^|\n)id=(\d+) .*? name=(\S+)/g)].filter((m) => m[2] === gated.connectionName).map((m) => m[1]);
    expect(mine).toHaveLength(1);
    expect(await admin.client('KILL', 'ID', mine[0])).toBe(1);
    await withTimeout(closed, 5000, 'the monitor subscriber connection to close after CLIENT KILL');
    const [b] = (await consumer.fetch(['w'])).tasks;
    expect(b.task?.flow?.inputs).toEqual({ a: 1 });
    await consumer.ack(b.id, b.worker, b.token, '2');
    await consumer.flowNoticesMoved();
    expect((await flows.get(id))?.status).toBe('FlowDone');
    await waitUntil(() => gated.gate.refused > 0, { timeoutMs: 5000, what: 'the subscriber to try to reconnect' });
    expect(events).not.toContain('FlowDone'); // published while nobody listened

    gated.gate.reopen();
    const state = await ended;
    expect(state).toMatchObject({ id, status: 'FlowDone', done: 2, total: 2 });
    expect(state.steps.map((s) => s.result)).toEqual([1, 2]);
    expect(events).not.toContain('FlowDone'); // the resync read it, no event replayed
  });
  it('taskq watch: redis-server killed and restarted under it: no unhandled error, a note once subscribed again, then live', async () => {
    const server: RedisServer = await startRedisServer({ persistence: true });
    servers.push(server);
    const q = newQueueName('watch-restart');
    const watch = AppProcess.start('cli', ['watch', '--queue', q, '--redis', server.url]);
    await waitUntil(() => watch.stderr.includes('(Ctrl-C to stop)'), { timeoutMs: 10_000, what: 'watch to subscribe', details: () => watch.tail() });
    await server.kill();
    // reconnect attempts fail meanwhile (the main connection logs each): before the fix, each of the
    // subscriber's printed "[ioredis] Unhandled error event: Error: connect ECONNREFUSED" with its stack
    const lostLines = (): number => watch.stderr.split('connection lost, reconnecting').length - 1;
    await waitUntil(() => lostLines() >= 3, { timeoutMs: 15_000, what: 'three failed reconnects', details: () => watch.stderr });
    await server.restart();
    await waitUntil(() => watch.stderr.includes('subscribed again after losing the connection'), { timeoutMs: 15_000, what: 'the note', details: () => watch.stderr });
    const producer = new Queue({ queue: q, connection: server.url });
    try {
      const { id } = await producer.enqueue({ type: 'x', payload: 1 });
      await waitUntil(() => watch.stdoutLines.some((l) => l.includes(` ${q} ${id} Queued`)), { timeoutMs: 10_000, what: 'the live Queued line', details: () => watch.tail() });
    } finally {
      await producer.close();
    }
    expect(watch.stderr).not.toContain('Unhandled error');
    watch.signal('SIGINT');
    expect((await watch.waitForExit(5000)).code).toBe(0);
  }, 60_000);
});
