import { Monitor } from '@taskq/monitor';
import { Queue } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { waitUntil } from './test-support/wait';

/** One sample of the Prometheus text format: name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Parses the Prometheus text exposition format (0.0.4) strictly enough to
 * fail on anything malformed: every line is a comment (HELP/TYPE) or a
 * sample `name{label="value",…} number`, and every sample's metric family
 * has a TYPE line before it.
 */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(raw);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(raw)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(raw);
    if (!m) throw new Error(`not a metrics line: ${raw}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(pair);
      if (!lm) throw new Error(`bad label in: ${raw}`);
      labels[lm[1]] = lm[2];
    }
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`sample before its TYPE line: ${raw}`);
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('worker --metrics-port: /metrics, /healthz, /readyz', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterEach(async () => {
    await killAllApps();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('counts tasks by status, times them, shows the queue from Redis, and turns unready when Redis is gone', async () => {
    const queueName = 'metrics';
    const worker = AppProcess.start('worker', [
      '2',
      '--redis',
      server.url,
      '--queue',
      queueName,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      '--heartbeat-ms',
      '200',
      '--stale-after-ms',
      '1000',
    ]);
    const announced = await worker.waitForLine(line.msgStarts('metrics on http://127.0.0.1:'), 'the metrics line');
    const port = announced['metricsPort'] as number;
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(port, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect((await get(port, '/nothing')).status).toBe(404);

    const queue = new Queue({ queue: queueName, connection: server.url });
    const monitor = new Monitor({ queue: queueName, connection: server.url, log: false });
    try {
      await monitor.start();
      const tasks = await queue.enqueueMany([
        ...[1, 2, 3, 4].map((n) => ({ id: `ok-${n}`, type: 'sleep', payload: { ms: 20 } })),
        { id: 'dies', type: 'sleep', payload: { ms: 1, failAttempts: 1 }, maxAttempts: 1 },
        { id: 'unknown', type: 'no-such-type', payload: null },
      ]);
      await monitor.waitFor(tasks.map((t) => t.id), undefined, { timeoutMs: 10_000 });
      await queue.enqueue({ id: 'later', type: 'sleep', payload: { ms: 1 }, delayMs: 600_000 });
      await queue.pause('metrics test'); // a backlog that stays
      await queue.enqueueMany([{ id: 'wait-1', type: 'sleep', payload: { ms: 1 } }, { id: 'wait-2', type: 'sleep', payload: { ms: 1 } }]);

      const scrape = await get(port, '/metrics');
      expect(scrape.status).toBe(200);
      const { samples, types } = parseMetrics(scrape.body);
      const q = { queue: queueName };
      expect(types.get('taskq_tasks_total')).toBe('counter');
      expect(types.get('taskq_task_duration_seconds')).toBe('histogram');
      expect(types.get('taskq_queue_tasks')).toBe('gauge');
      expect(value(samples, 'taskq_tasks_total', { ...q, status: 'Done' })).toBe(4);
      expect(value(samples, 'taskq_tasks_total', { ...q, status: 'Dead' })).toBe(1);
      expect(value(samples, 'taskq_tasks_total', { ...q, status: 'Failed' })).toBe(1);
      expect(value(samples, 'taskq_task_duration_seconds_count', { ...q, status: 'Done' })).toBe(4);
      expect(value(samples, 'taskq_task_duration_seconds_sum', { ...q, status: 'Done' })).toBeGreaterThanOrEqual(4 * 0.019);
      expect(value(samples, 'taskq_task_duration_seconds_bucket', { ...q, status: 'Done', le: '+Inf' })).toBe(4);
      // the wait of each first attempt that ran: not the task without a handler
      expect(value(samples, 'taskq_task_wait_seconds_count', q)).toBe(5);
      expect(value(samples, 'taskq_queue_tasks', { ...q, state: 'ready' })).toBe(2);
      expect(value(samples, 'taskq_queue_tasks', { ...q, state: 'delayed' })).toBe(1);
      expect(value(samples, 'taskq_queue_tasks', { ...q, state: 'in_progress' })).toBe(0);
      expect(value(samples, 'taskq_queue_tasks', { ...q, state: 'dead' })).toBe(1);
      const age = value(samples, 'taskq_queue_oldest_ready_age_seconds', q) ?? -1;
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(30);
      expect((value(samples, 'taskq_subworkers', { ...q, state: 'busy' }) ?? 0) + (value(samples, 'taskq_subworkers', { ...q, state: 'idle' }) ?? 0)).toBe(2);
      expect(value(samples, 'taskq_heartbeat_age_seconds', q)).toBeLessThan(1);
      expect(value(samples, 'taskq_janitor_recoveries_total', q)).toBe(0);
      expect(value(samples, 'taskq_redis_errors_total', { ...q, op: 'heartbeat' })).toBe(0);
      expect(value(samples, 'process_cpu_seconds_total', {})).toBeGreaterThan(0); // Node's default metrics
    } finally {
      await monitor.stop();
      await queue.close();
    }

    await server.stop(); // Redis gone: the heartbeats fail
    const unready = await waitUntil(
      async () => {
        const r = await get(port, '/readyz');
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: '/readyz to turn 503' },
    );
    expect(unready.body).toMatch(/^last heartbeat \d+ ms ago \(interval 200 ms\): Redis unreachable or refusing writes\n$/);
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    // the scrape still answers, without the queue's counts, and counts the failed heartbeats
    const down = parseMetrics((await get(port, '/metrics')).body).samples;
    expect(value(down, 'taskq_redis_errors_total', { queue: queueName, op: 'heartbeat' })).toBeGreaterThan(0);
    expect(value(down, 'taskq_queue_tasks', { queue: queueName, state: 'ready' })).toBeUndefined();
    await server.restart();
    await waitUntil(async () => (await get(port, '/readyz')).status === 200, { timeoutMs: 10_000, intervalMs: 100, what: '/readyz 200 again' });
    worker.signal('SIGTERM');
    const exit = await worker.waitForExit(15_000);
    // the worker's last lines when it did not exit 0 (in CI it once exited 1: an unhandled rejection of the SUBSCRIBE ioredis sends after a reconnect, when the stop closed the subscriber first; see reconnect-guard.ts)
    expect({ code: exit.code, tail: exit.code === 0 ? '' : `${worker.tail(40)}\n${worker.stderr.slice(-3000)}` }).toEqual({ code: 0, tail: '' });
  });

  it('--metrics-port out of range: usage error, exit 2', async () => {
    const worker = AppProcess.start('worker', ['2', '--redis', server.url, '--metrics-port', '70000']);
    const exit = await worker.waitForExit(10_000);
    expect(exit.code).toBe(2);
    expect(worker.stderr).toContain('--metrics-port must be a whole number from 0 to 65535');
  });
});
