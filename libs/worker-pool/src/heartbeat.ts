import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@taskq/recorder';
import type { Consumer, Heartbeat, ThreadTarget } from '@taskq/queue';

/** Restarts of a crashed heartbeat thread allowed within RESTART_WINDOW_MS before the main thread takes over. */
export const MAX_THREAD_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

/**
 * Logs failed heartbeats without a line per beat while Redis refuses them
 * (maxmemory, a restart): the first failure of a run, then every 10th; and
 * one line when they work again.
 */
export class BeatFailureLog {
  private inARow = 0;

  constructor(private readonly logger: Logger) {}

  failed(message: string, err: unknown = message): void {
    this.inARow++;
    if (this.inARow === 1 || this.inARow % 10 === 0) {
      this.logger.warn({ err, failures: this.inARow }, `heartbeat failed${this.inARow > 1 ? ` (${this.inARow} in a row)` : ''}: ${message}`);
    }
  }

  succeeded(): void {
    if (this.inARow > 0) this.logger.info({ failures: this.inARow }, `heartbeats work again after ${this.inARow} failed`);
    this.inARow = 0;
  }
}

/** Where a pool's heartbeats come from. */
export interface HeartbeatSource {
  /** `onError`: a beat failed (Redis refused or unreachable). */
  start(onBeat: (beat: Heartbeat) => void, onError?: () => void): void;
  stop(): Promise<void>;
}

/** Heartbeats from the main thread's event loop: for the embedded in-memory Redis, or when told so. */
export class MainThreadHeartbeat implements HeartbeatSource {
  private timer: NodeJS.Timeout | undefined;
  private readonly failures: BeatFailureLog;

  constructor(
    private readonly consumer: Consumer,
    private readonly intervalMs: number,
    logger: Logger,
  ) {
    this.failures = new BeatFailureLog(logger);
  }

  start(onBeat: (beat: Heartbeat) => void, onError: () => void = () => undefined): void {
    this.timer = setInterval(() => {
      this.consumer.heartbeat().then(
        (beat) => {
          this.failures.succeeded();
          onBeat(beat);
        },
        (err: unknown) => {
          onError();
          this.failures.failed(String(err), err);
        },
      );
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}

/**
 * Heartbeats from a worker thread with its own Redis connection
 * (`threads/heartbeat.cjs`): they keep beating while a handler blocks the
 * main thread with CPU-bound work. A thread that exits by itself (a crash) is
 * started again, up to MAX_THREAD_RESTARTS times within RESTART_WINDOW_MS;
 * past that the heartbeats come from the main thread (logged as an error):
 * the pool never runs without heartbeats, and stop() never waits for a thread
 * that is gone.
 */
export class ThreadHeartbeat implements HeartbeatSource {
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private onBeat: (beat: Heartbeat) => void = () => undefined;
  private onError: () => void = () => undefined;
  /** When the thread exited by itself, within the last RESTART_WINDOW_MS. */
  private crashes: number[] = [];
  private fallback: MainThreadHeartbeat | undefined;
  private readonly failures: BeatFailureLog;

  constructor(
    private readonly consumer: Consumer,
    private readonly target: ThreadTarget,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    /** The thread's script (tests give another). */
    private readonly script: string = join(__dirname, '..', 'threads', 'heartbeat.cjs'),
  ) {
    this.failures = new BeatFailureLog(logger);
  }

  /** Whether the heartbeats now come from the main thread because the thread kept crashing. */
  get onMainThread(): boolean {
    return this.fallback !== undefined;
  }

  /** Starts the thread; throws when it cannot be made (e.g. options that cannot be sent to a thread). */
  start(onBeat: (beat: Heartbeat) => void, onError: () => void = () => undefined): void {
    this.onBeat = onBeat;
    this.onError = onError;
    this.spawn();
  }

  private spawn(): void {
    const call = this.consumer.heartbeatCall();
    const worker = new Worker(this.script, {
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
    this.worker = worker;
    this.exited = new Promise<void>((resolve) =>
      worker.once('exit', (code) => {
        resolve();
        this.exitedBy(worker, code);
      }),
    );
    worker.on('message', (m: { type: string; alive?: boolean; epoch?: string; cancelRequested?: string[]; message?: string }) => {
      if (m.type === 'beat') {
        // a beat that shows another epoch: Redis lost the queue's data (reported by the consumer), nobody presumed this one dead
        const lost = this.consumer.noteEpoch(m.epoch);
        if (!m.alive && !lost) this.logger.warn({ consumer: this.consumer.id }, `consumer ${this.consumer.id} was presumed dead; its tasks went back to the queue; registered again`);
        this.failures.succeeded();
        this.onBeat({ alive: m.alive === true, cancelRequested: m.cancelRequested ?? [], epoch: m.epoch });
      } else if (m.type === 'error') {
        this.onError();
        this.failures.failed(m.message ?? '');
      }
    });
    worker.on('error', (err) => this.logger.error({ err, consumer: this.consumer.id }, `heartbeat thread crashed: ${err.message}`));
    worker.unref();
  }

  /** The thread ended: by stop() (nothing to do), or by itself: start it again or beat from the main thread. */
  private exitedBy(worker: Worker, code: number): void {
    if (this.stopping || this.worker !== worker) return;
    this.worker = undefined;
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.crashes.length <= MAX_THREAD_RESTARTS) {
      this.logger.error(
        { consumer: this.consumer.id, code },
        `heartbeat thread exited unexpectedly (code ${code}); starting it again (${this.crashes.length} of ${MAX_THREAD_RESTARTS} restarts within ${RESTART_WINDOW_MS / 1000} s)`,
      );
      try {
        this.spawn();
        return;
      } catch (err) {
        this.logger.error({ err, consumer: this.consumer.id }, `heartbeat thread could not start again: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.logger.error(
      { consumer: this.consumer.id, code },
      `heartbeat thread keeps failing (${this.crashes.length} exits within ${RESTART_WINDOW_MS / 1000} s): heartbeats now come from the main thread; a handler that blocks the event loop past the janitor's stale limit will be taken for a dead worker`,
    );
    this.fallback = new MainThreadHeartbeat(this.consumer, this.intervalMs, this.logger);
    this.fallback.start(this.onBeat, this.onError);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.fallback?.stop();
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return; // never started, or gone already (its exit fired)
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
