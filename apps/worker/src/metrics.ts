import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueCounts } from '@taskq/queue';
import type { Logger } from '@taskq/recorder';
import type { PoolStats, TaskOutcome } from '@taskq/worker-pool';

/** What the metrics need of a worker pool. */
export interface MetricsSource {
  stats(): PoolStats;
  onTaskEnd(listener: (outcome: TaskOutcome) => void): () => void;
}

/** How long a scrape waits for the queue's counts (Redis reconnecting would hold the commands): then it goes on without them. */
const COUNTS_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const WAIT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

/**
 * The worker's Prometheus registry: tasks by queue and status, task duration
 * and queue wait, each queue's counts (read from Redis on each scrape), the
 * sub-workers, janitor recoveries, Redis errors, the heartbeat's age, and
 * Node's default process metrics. `counts(queue)` reads a queue's counts.
 * The process's own gauges and counters (sub-workers, heartbeat, janitor,
 * Redis errors) are labelled with the queue it serves, or with its queues
 * joined by commas when it serves several. Returns the registry and a
 * function that detaches it from the pool.
 */
export function workerMetrics(pool: MetricsSource, counts: (queue: string) => Promise<QueueCounts>, logger: Logger): { registry: Registry; detach: () => void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const queues = pool.stats().queues;
  const queue = queues.join(',');
  const tasks = new Counter({
    name: 'taskq_tasks_total',
    help: 'Task runs that ended in this worker, by the status recorded (Done, Retrying, Dead, Failed, Cancelled; Released: put back by a stopping worker; Unrecorded: refused or lost)',
    labelNames: ['queue', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'taskq_task_duration_seconds',
    help: "How long task handlers ran in this worker, by the status recorded",
    labelNames: ['queue', 'status'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const wait = new Histogram({
    name: 'taskq_task_wait_seconds',
    help: 'Time from the enqueue (Redis time, a delay included) to the start of the first attempt',
    labelNames: ['queue'],
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  const detach = pool.onTaskEnd((o) => {
    tasks.inc({ queue: o.queue, status: o.status });
    if (o.durationMs > 0) duration.observe({ queue: o.queue, status: o.status }, o.durationMs / 1000);
    if (o.waitMs !== undefined) wait.observe({ queue: o.queue }, o.waitMs / 1000);
  });

  // one read of each queue's counts per scrape, shared by the gauges that show it
  let read: { readonly at: number; readonly counts: Promise<(QueueCounts | undefined)[]> } | undefined;
  const queueCounts = (): Promise<(QueueCounts | undefined)[]> => {
    const now = Date.now();
    if (read === undefined || now - read.at > 250) {
      const each = queues.map((q) =>
        withTimeout(counts(q), COUNTS_TIMEOUT_MS).catch((err: unknown) => {
          // the scrape goes on without the queue's counts (absent, not stale)
          logger.warn({ err }, `metrics: reading queue ${q}'s counts failed: ${String(err)}`);
          return undefined;
        }),
      );
      read = { at: now, counts: Promise.all(each) };
    }
    return read.counts;
  };
  new Gauge({
    name: 'taskq_queue_tasks',
    help: 'Tasks of the queue by where they are (ready, delayed, in_progress, dead), read from Redis at each scrape; the same in every worker of the queue',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      (await queueCounts()).forEach((c, i) => {
        if (c === undefined) return;
        const q = queues[i];
        this.set({ queue: q, state: 'ready' }, c.ready);
        this.set({ queue: q, state: 'delayed' }, c.delayed);
        this.set({ queue: q, state: 'in_progress' }, c.inProgress);
        this.set({ queue: q, state: 'dead' }, c.dead);
      });
    },
  });
  new Gauge({
    name: 'taskq_queue_oldest_ready_age_seconds',
    help: 'Seconds since the enqueue of the oldest ready task, of any priority (0: none ready), read from Redis at each scrape',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      (await queueCounts()).forEach((c, i) => {
        if (c !== undefined) this.set({ queue: queues[i] }, c.oldestReadyAgeSeconds);
      });
    },
  });
  new Gauge({
    name: 'taskq_subworkers',
    help: "This worker's sub-workers: busy (running a task, or fetching one) or idle",
    labelNames: ['queue', 'state'],
    registers: [registry],
    collect() {
      const s = pool.stats();
      this.set({ queue, state: 'busy' }, s.busy);
      this.set({ queue, state: 'idle' }, s.idle);
    },
  });
  new Gauge({
    name: 'taskq_heartbeat_age_seconds',
    help: "Seconds since this worker's last heartbeat that Redis took",
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      const at = pool.stats().lastHeartbeatAt;
      if (at === undefined) this.reset();
      else this.set({ queue }, (Date.now() - at) / 1000);
    },
  });
  // cumulative counts kept by the pool: each scrape adds what is new
  const recoveries = new Counter({
    name: 'taskq_janitor_recoveries_total',
    help: "Tasks this worker's janitor returned to the queue from dead workers",
    labelNames: ['queue'],
    registers: [registry],
    collect: () => syncCounters(),
  });
  const errors = new Counter({
    name: 'taskq_redis_errors_total',
    help: 'Redis commands of this worker that failed or were refused, by what they were for (fetch, heartbeat, record, janitor)',
    labelNames: ['queue', 'op'],
    registers: [registry],
  });
  const seen = { recoveries: 0, fetch: 0, heartbeat: 0, record: 0, janitor: 0 };
  const syncCounters = (): void => {
    const s = pool.stats();
    recoveries.inc({ queue }, s.janitorRecoveries - seen.recoveries);
    seen.recoveries = s.janitorRecoveries;
    for (const op of ['fetch', 'heartbeat', 'record', 'janitor'] as const) {
      errors.inc({ queue, op }, s.redisErrors[op] - seen[op]);
      seen[op] = s.redisErrors[op];
    }
  };
  syncCounters();
  return { registry, detach: () => void detach() };
}

/** Whether the worker is ready: its pool runs and Redis took a heartbeat within three intervals. */
export function readiness(s: PoolStats, now: number = Date.now()): { ready: boolean; reason: string } {
  if (s.state !== 'running') return { ready: false, reason: `pool is ${s.state}` };
  if (s.lastHeartbeatAt === undefined) return { ready: false, reason: 'no heartbeat yet' };
  const age = now - s.lastHeartbeatAt;
  if (age > 3 * s.heartbeatMs) return { ready: false, reason: `last heartbeat ${age} ms ago (interval ${s.heartbeatMs} ms): Redis unreachable or refusing writes` };
  return { ready: true, reason: 'ready' };
}

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one the system gave for 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `/metrics` (the registry), `/healthz` (the process answers) and `/readyz` (see readiness) on `host:port`. */
export async function startMetricsServer(o: {
  readonly port: number;
  readonly host: string;
  readonly registry: Registry;
  readonly pool: MetricsSource;
  readonly logger: Logger;
}): Promise<MetricsServer> {
  const text = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'GET only\n');
    if (path === '/healthz') return text(res, 200, 'ok\n');
    if (path === '/readyz') {
      const r = readiness(o.pool.stats());
      return text(res, r.ready ? 200 : 503, `${r.reason}\n`);
    }
    if (path === '/metrics') return text(res, 200, await o.registry.metrics(), o.registry.contentType);
    return text(res, 404, 'not found: /metrics, /healthz, /readyz\n');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.logger.error({ err }, `metrics: ${req.url ?? ''} failed: ${String(err)}`);
      if (!res.headersSent) text(res, 500, 'error\n');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
