import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from '@taskq/queue';
import { spinTask, WorkerPool, type TaskHandler } from '@taskq/worker-pool';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { StatusLog } from './test-support/status-log';
import { withTimeout, waitUntil } from './test-support/wait';

/**
 * The WorkerPool as the README builds it — a URL and handlers, nothing about
 * heartbeats or janitors — running a task that keeps the CPU busy for 7 s,
 * longer than the 5 s after which a silent worker is presumed dead. A janitor
 * with the library's defaults runs in another process (this process's own
 * janitor is as blocked as its event loop). Both tests are slow on purpose.
 */
const SPIN_MS = 7000;

const clients = new RedisClients();
const logs: StatusLog[] = [];
const pools: WorkerPool[] = [];
const janitors: ChildProcess[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.stop(0);
  for (const child of janitors.splice(0)) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await withTimeout(exited, 5000, 'the janitor process to exit');
  }
  for (const log of logs.splice(0)) await log.stop();
  await clients.close();
});

/** Starts janitor-process.cjs on `queue`; resolves once it runs, with the lines it printed so far (and later). */
async function janitorProcess(queue: string): Promise<string[]> {
  const child = spawn(process.execPath, [join(__dirname, 'test-support', 'janitor-process.cjs'), testRedisUrl(), queue], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  janitors.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => lines.push(l));
  await waitUntil(() => lines.some((l) => l.includes('janitor started')), { timeoutMs: 10_000, what: 'the janitor process to start' });
  return lines;
}

async function run(label: string, poolOptions: { heartbeat?: 'main' }) {
  const queue = newQueueName(label);
  const url = testRedisUrl();
  const redis = await clients.connect();
  const log = await StatusLog.start(redis, queue);
  logs.push(log);
  const janitorLines = await janitorProcess(queue);
  const runs: number[] = [];
  // the first run spins; a second one (after a recovery) would end at once
  const spin: TaskHandler = (task, ctx) => {
    runs.push(ctx.attempt);
    return runs.length === 1 ? spinTask(task, ctx) : undefined;
  };
  const pool = new WorkerPool({ queue, connection: url, concurrency: 1, handlers: { spin }, ...poolOptions });
  pools.push(pool);
  await pool.start();
  const { id } = await new Queue({ queue, connection: redis }).enqueue({ id: `${queue}-spin`, type: 'spin', payload: { ms: SPIN_MS } });
  const done = await log.waitFor(id, 'Done', 4 * SPIN_MS);
  return { id, log, done, runs, janitorLines };
}

describe('a CPU-bound task under the library defaults', () => {
  jest.setTimeout(60_000);

  it('runs once and ends Done: the heartbeat thread keeps its worker alive through a 7 s spin', async () => {
    const { id, log, done, runs, janitorLines } = await run('cpu-defaults', {});
    expect(runs).toEqual([1]);
    expect(done).toMatchObject({ status: 'Done', attempt: 1 });
    expect(done.at - (log.of(id).find((r) => r.status === 'InProgress')?.at ?? 0)).toBeGreaterThanOrEqual(SPIN_MS);
    expect(log.statuses(id)).toEqual(['Queued', 'InProgress', 'Done']);
    expect(janitorLines.filter((l) => l.includes('missed its heartbeats'))).toEqual([]);
  });

  it('control: with heartbeats from the blocked main thread, the janitor takes the worker for dead and the task runs again', async () => {
    const { id, log, runs, janitorLines } = await run('cpu-main', { heartbeat: 'main' });
    expect(runs.length).toBe(2);
    expect(log.of(id).some((r) => r.status === 'Queued' && r.reason?.startsWith('recovered from dead consumer'))).toBe(true);
    expect(janitorLines.some((l) => l.includes('missed its heartbeats'))).toBe(true);
  });
});
