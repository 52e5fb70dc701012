import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@taskq/recorder';
import type { Consumer, Heartbeat, ThreadTarget } from '@taskq/queue';
import { SLOT_PENDING, SLOT_THREAD, type RelayBuffers } from './claim-relay';

/**
 * A hand-off pool's claim relay, for its heartbeat thread (see ClaimRelay):
 * the shared buffers, the sub-worker names, after how long a pending claim is
 * sent from the thread (ms since its handler started), and each queue's claim
 * call (Consumer.claimCall). `answered` gets the thread's answers ([slot,
 * answer], answer null when its call failed); `orphaned` is called when a
 * thread ended with claims of its own unanswered (they are pending again).
 */
export interface RelaySettings {
  readonly buffers: RelayBuffers;
  readonly workers: readonly string[];
  readonly afterMs: number;
  readonly checkMs: number;
  readonly idBytes: number;
  readonly lanes: readonly { keys: string[]; args: string[]; sha: string; source: string }[];
  readonly answered: (answers: [number, string | null][]) => void;
  readonly orphaned: () => void;
}

/** What the thread gets of a relay (functions cannot be sent to a thread). */
function relayData({ buffers, workers, afterMs, checkMs, idBytes, lanes }: RelaySettings): Record<string, unknown> {
  return { ...buffers, slotStates: { pending: SLOT_PENDING, thread: SLOT_THREAD }, workers, afterMs, checkMs, idBytes, lanes };
}

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

/**
 * Where a pool's heartbeats come from. A pool serving several queues has a
 * consumer in each (one id): each beat is one heartbeat call per queue, sent
 * together, from one timer or thread and one connection.
 */
export interface HeartbeatSource {
  /** `onBeat`: a queue's beat, with the index of its consumer; `onError`: a beat failed (Redis refused or unreachable). */
  start(onBeat: (beat: Heartbeat, index: number) => void, onError?: () => void): void;
  stop(): Promise<void>;
}

function listOf(consumers: Consumer | readonly Consumer[]): readonly Consumer[] {
  const list = Array.isArray(consumers) ? (consumers as readonly Consumer[]) : [consumers as Consumer];
  if (list.length === 0) throw new RangeError('a heartbeat needs at least one consumer');
  return list;
}

/** Heartbeats from the main thread's event loop: for the embedded in-memory Redis, or when told so. */
export class MainThreadHeartbeat implements HeartbeatSource {
  private timer: NodeJS.Timeout | undefined;
  private readonly failures: BeatFailureLog;
  private readonly consumers: readonly Consumer[];

  constructor(
    consumers: Consumer | readonly Consumer[],
    private readonly intervalMs: number,
    logger: Logger,
  ) {
    this.consumers = listOf(consumers);
    this.failures = new BeatFailureLog(logger);
  }

  start(onBeat: (beat: Heartbeat, index: number) => void, onError: () => void = () => undefined): void {
    this.timer = setInterval(() => {
      void Promise.allSettled(this.consumers.map((c) => c.heartbeat())).then((settled) => {
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed) {
          onError();
          this.failures.failed(String(failed.reason), failed.reason);
        } else {
          this.failures.succeeded();
        }
        settled.forEach((s, i) => {
          if (s.status === 'fulfilled') onBeat(s.value, i);
        });
      });
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
  private onBeat: (beat: Heartbeat, index: number) => void = () => undefined;
  private onError: () => void = () => undefined;
  /** When the thread exited by itself, within the last RESTART_WINDOW_MS. */
  private crashes: number[] = [];
  private fallback: MainThreadHeartbeat | undefined;
  private readonly failures: BeatFailureLog;
  private readonly consumers: readonly Consumer[];
  /** The consumer id (the same in every queue), for logs. */
  private readonly id: string;

  constructor(
    consumers: Consumer | readonly Consumer[],
    private readonly target: ThreadTarget,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    /** The thread's script (tests give another). */
    private readonly script: string = join(__dirname, '..', 'threads', 'heartbeat.cjs'),
    /** A hand-off pool's claim relay (see RelaySettings). */
    private readonly relay?: RelaySettings,
  ) {
    this.consumers = listOf(consumers);
    this.id = this.consumers[0].id;
    this.failures = new BeatFailureLog(logger);
  }

  /** Whether the heartbeats now come from the main thread because the thread kept crashing. */
  get onMainThread(): boolean {
    return this.fallback !== undefined;
  }

  /** Starts the thread; throws when it cannot be made (e.g. options that cannot be sent to a thread). */
  start(onBeat: (beat: Heartbeat, index: number) => void, onError: () => void = () => undefined): void {
    this.onBeat = onBeat;
    this.onError = onError;
    this.spawn();
  }

  private spawn(): void {
    const calls = this.consumers.map((c) => c.heartbeatCall());
    const worker = new Worker(this.script, {
      workerData: {
        ...this.target,
        connectionName: `taskq-heartbeat-${this.id}`,
        source: calls[0].source,
        sha: calls[0].sha,
        keys: calls.map((c) => c.keys),
        consumerId: this.id,
        intervalMs: this.intervalMs,
        ...(this.relay ? { relay: relayData(this.relay) } : {}),
      },
    });
    this.worker = worker;
    this.exited = new Promise<void>((resolve) =>
      worker.once('exit', (code) => {
        resolve();
        this.exitedBy(worker, code);
      }),
    );
    type Beat = { alive?: boolean; epoch?: string; cancelRequested?: string[] } | null;
    worker.on('message', (m: { type: string; beats?: Beat[]; message?: string; answers?: [number, string | null][] }) => {
      if (m.type === 'claims') {
        this.relay?.answered(m.answers ?? []);
      } else if (m.type === 'beat') {
        const beats = m.beats ?? [];
        if (beats.every((b) => b !== null)) this.failures.succeeded();
        beats.forEach((b, i) => {
          const consumer = this.consumers[i];
          if (b === null || consumer === undefined) return;
          // a beat that shows another epoch: Redis lost the queue's data (reported by the consumer), nobody presumed this one dead
          const lost = consumer.noteEpoch(b.epoch);
          if (!b.alive && !lost) {
            this.logger.warn({ consumer: consumer.id, queue: consumer.keys.queue }, `consumer ${consumer.id} was presumed dead in queue ${consumer.keys.queue}; its tasks there went back to the queue; registered again`);
          }
          this.onBeat({ alive: b.alive === true, cancelRequested: b.cancelRequested ?? [], epoch: b.epoch }, i);
        });
      } else if (m.type === 'error') {
        this.onError();
        this.failures.failed(m.message ?? '');
      }
    });
    worker.on('error', (err) => this.logger.error({ err, consumer: this.id }, `heartbeat thread crashed: ${err.message}`));
    worker.unref();
  }

  /** The thread ended: by stop() (nothing to do), or by itself: start it again or beat from the main thread. */
  private exitedBy(worker: Worker, code: number): void {
    // claims it took and did not answer are pending again (the main thread, or the next thread, sends them)
    this.relay?.orphaned();
    if (this.stopping || this.worker !== worker) return;
    this.worker = undefined;
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.crashes.length <= MAX_THREAD_RESTARTS) {
      this.logger.error(
        { consumer: this.id, code },
        `heartbeat thread exited unexpectedly (code ${code}); starting it again (${this.crashes.length} of ${MAX_THREAD_RESTARTS} restarts within ${RESTART_WINDOW_MS / 1000} s)`,
      );
      try {
        this.spawn();
        return;
      } catch (err) {
        this.logger.error({ err, consumer: this.id }, `heartbeat thread could not start again: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.logger.error(
      { consumer: this.id, code },
      `heartbeat thread keeps failing (${this.crashes.length} exits within ${RESTART_WINDOW_MS / 1000} s): heartbeats now come from the main thread; a handler that blocks the event loop past the janitor's stale limit will be taken for a dead worker`,
    );
    this.fallback = new MainThreadHeartbeat(this.consumers, this.intervalMs, this.logger);
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
