import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@taskq/recorder';
import type { Consumer, Heartbeat, ThreadTarget } from '@taskq/queue';

/** Where a pool's heartbeats come from. */
export interface HeartbeatSource {
  start(onBeat: (beat: Heartbeat) => void): void;
  stop(): Promise<void>;
}

/** Heartbeats from the main thread's event loop: for the embedded in-memory Redis, or when told so. */
export class MainThreadHeartbeat implements HeartbeatSource {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(onBeat: (beat: Heartbeat) => void): void {
    this.timer = setInterval(() => {
      this.consumer.heartbeat().then(onBeat, (err: unknown) => this.logger.warn({ err }, `heartbeat failed: ${String(err)}`));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}

/**
 * Heartbeats from a worker thread with its own Redis connection
 * (`threads/heartbeat.cjs`): they keep beating while a handler blocks the
 * main thread with CPU-bound work.
 */
export class ThreadHeartbeat implements HeartbeatSource {
  private worker: Worker | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly target: ThreadTarget,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(onBeat: (beat: Heartbeat) => void): void {
    const call = this.consumer.heartbeatCall();
    this.worker = new Worker(join(__dirname, '..', 'threads', 'heartbeat.cjs'), {
      workerData: {
        ...this.target,
        connectionName: `taskq-heartbeat-${this.consumer.id}`,
        source: call.source,
        sha: call.sha,
        keys: call.keys,
        consumerId: this.consumer.id,
        intervalMs: this.intervalMs,
      },
    });
    this.worker.on('message', (m: { type: string; alive?: boolean; cancelRequested?: string[]; message?: string }) => {
      if (m.type === 'beat') {
        if (!m.alive) this.logger.warn({ consumer: this.consumer.id }, `consumer ${this.consumer.id} was presumed dead; its tasks went back to the queue; registered again`);
        onBeat({ alive: m.alive === true, cancelRequested: m.cancelRequested ?? [] });
      } else if (m.type === 'error') {
        this.logger.warn({ err: m.message }, `heartbeat failed: ${m.message ?? ''}`);
      }
    });
    this.worker.on('error', (err) => this.logger.error({ err }, `heartbeat thread crashed: ${err.message}`));
    this.worker.unref();
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}
