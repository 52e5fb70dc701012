import type { TaskHandler } from './handler';

/** Payload of the built-in `sleep` task. */
export interface SleepPayload {
  /** How long the task takes, ms. */
  readonly ms: number;
  /** Planned failures: attempts up to this number throw (for demos and chaos tests). Default 0. */
  readonly failAttempts?: number;
  /**
   * With a value, the result also has `sum`: this value plus the `sum` of
   * every result in `task.flow.inputs` (a flow step's inputs; for flow demos
   * and the chaos run, which checks that every input arrived).
   */
  readonly value?: number;
  [key: string]: number | undefined;
}

/** Result of the built-in `sleep` task (stored with its Done record). */
export interface SleepResult {
  /** How long it slept, ms: its payload's `ms`. */
  readonly sleptMs: number;
  /** A flow step only: its own `sleptMs` plus the `totalMs` (or `sleptMs`) of each step it waited for. */
  readonly totalMs?: number;
  /** Only when the payload has a `value`: it plus the `sum`s of the flow step's inputs. */
  readonly sum?: number;
}

/** A flow step's sleep total: its own ms plus what the steps it waited for returned. */
function flowTotal(ms: number, inputs: Readonly<Record<string, unknown>>): number {
  let total = ms;
  for (const v of Object.values(inputs)) {
    const r = v as Partial<SleepResult> | null;
    const n = r?.totalMs ?? r?.sleptMs;
    if (typeof n === 'number' && Number.isFinite(n)) total += n;
  }
  return total;
}

/** payload.value plus the numeric `sum` of each result in the flow step's inputs; undefined without a value. */
function sumOf(value: unknown, inputs: Readonly<Record<string, unknown>> | undefined): number | undefined {
  if (typeof value !== 'number') return undefined;
  let sum = value;
  for (const input of Object.values(inputs ?? {})) {
    const s = typeof input === 'object' && input !== null ? (input as { sum?: unknown }).sum : undefined;
    if (typeof s === 'number') sum += s;
  }
  return sum;
}

/** The sleep task reports its progress in this many steps (every 10 % of its duration). */
export const SLEEP_PROGRESS_STEPS = 10;
/** A sleep shorter than this reports no progress (its steps would be a few ms apart). */
export const SLEEP_PROGRESS_MIN_MS = 100;

/**
 * A handler that waits `payload.ms` milliseconds (aborted by the task's
 * signal), and throws on the first `payload.failAttempts` attempts. The demo,
 * the apps and the tests use it as a stand-in for real work. A sleep of 100
 * ms or more reports its progress every 10 % of its duration, as steps done of
 * ten (`{ done: 4, total: 10 }`: 40 %; the pool throttles it). Its result
 * is `{ sleptMs }`, the payload's `ms`; as a flow step, also `totalMs`,
 * which adds the totals its inputs carry (a chain's last step: the chain's
 * sleep; a chord's callback: the whole flow's); with a `payload.value`, also
 * `sum` (that value plus the `sum`s of the flow step's inputs).
 */
export const sleepTask: TaskHandler = (task, { signal, attempt, progress }) => {
  const payload = task.payload as Partial<SleepPayload> | null;
  const ms = payload?.ms;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`sleep task needs payload.ms >= 0, got ${JSON.stringify(task.payload)}`);
  }
  const failAttempts = typeof payload?.failAttempts === 'number' ? payload.failAttempts : 0;
  const steps = ms >= SLEEP_PROGRESS_MIN_MS ? SLEEP_PROGRESS_STEPS : 1;
  return new Promise<SleepResult>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const start = performance.now();
    let step = 0;
    let timer: NodeJS.Timeout;
    // each step is timed from the start, so the steps do not drift and the whole takes `ms`
    const next = (): void => {
      step++;
      timer = setTimeout(step < steps ? onStep : onEnd, Math.max(0, start + (ms * step) / steps - performance.now()));
    };
    const onStep = (): void => {
      progress({ done: step, total: steps });
      next();
    };
    const onEnd = (): void => {
      signal.removeEventListener('abort', onAbort);
      if (attempt <= failAttempts) reject(new Error(`planned failure of attempt ${attempt} (fails ${failAttempts})`));
      else {
        const sum = sumOf(payload?.value, task.flow?.inputs);
        resolve({
          sleptMs: ms,
          ...(task.flow ? { totalMs: flowTotal(ms, task.flow.inputs) } : {}),
          ...(sum === undefined ? {} : { sum }),
        });
      }
    };
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    next();
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
