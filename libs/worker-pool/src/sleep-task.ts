import type { TaskHandler } from './handler';

/** Payload of the built-in `sleep` task. */
export interface SleepPayload {
  /** How long the task takes, ms. */
  readonly ms: number;
  [key: string]: number;
}

/**
 * A handler that waits `payload.ms` milliseconds (aborted by the task's
 * signal). The demo, the apps and the tests use it as a stand-in for real work.
 */
export const sleepTask: TaskHandler = (task, { signal }) => {
  const payload = task.payload as Partial<SleepPayload> | null;
  const ms = payload?.ms;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`sleep task needs payload.ms >= 0, got ${JSON.stringify(task.payload)}`);
  }
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
};
