import type { TaskHandler } from './handler';

/** Payload of the built-in `sleep` task. */
export interface SleepPayload {
  /** How long the task takes, ms. */
  readonly ms: number;
  /** Planned failures: attempts up to this number throw (for demos and chaos tests). Default 0. */
  readonly failAttempts?: number;
  [key: string]: number | undefined;
}

/**
 * A handler that waits `payload.ms` milliseconds (aborted by the task's
 * signal), and throws on the first `payload.failAttempts` attempts. The demo,
 * the apps and the tests use it as a stand-in for real work.
 */
export const sleepTask: TaskHandler = (task, { signal, attempt }) => {
  const payload = task.payload as Partial<SleepPayload> | null;
  const ms = payload?.ms;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`sleep task needs payload.ms >= 0, got ${JSON.stringify(task.payload)}`);
  }
  const failAttempts = typeof payload?.failAttempts === 'number' ? payload.failAttempts : 0;
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      if (attempt <= failAttempts) reject(new Error(`planned failure of attempt ${attempt} (fails ${failAttempts})`));
      else resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
};

/**
 * A handler that keeps the CPU busy for `payload.ms` milliseconds without
 * yielding to the event loop: a stand-in for CPU-bound work. Heartbeats from
 * the heartbeat thread keep beating meanwhile; main-thread timers do not.
 */
export const spinTask: TaskHandler = (task) => {
  const ms = (task.payload as Partial<SleepPayload> | null)?.ms;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`spin task needs payload.ms >= 0, got ${JSON.stringify(task.payload)}`);
  }
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
};
