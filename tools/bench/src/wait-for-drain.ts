import type { Producer } from './systems/producer';

/** Thrown when tasks fail, or no task finishes for `stallMs`. */
export class DrainError extends Error {
  override readonly name = 'DrainError';
}

/** Poll intervals, ms: the first polls, and the bounds of the adaptive interval. */
const FIRST_POLL_MS = 10;
const MIN_POLL_MS = 2;
const MAX_POLL_MS = 50;

/**
 * The next poll delay: a quarter of the time the remaining tasks should take
 * at the rate seen so far, within [2, 50] ms. Few reads while far from the
 * end (the observer must not cost the system under test), fine resolution
 * near it (the end time is known to within a couple of ms).
 */
export function nextPollDelay(remaining: number, doneSoFar: number, elapsedMs: number): number {
  if (doneSoFar <= 0 || elapsedMs <= 0) return FIRST_POLL_MS;
  const etaMs = remaining / (doneSoFar / elapsedMs);
  return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, Math.floor(etaMs / 4)));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with the time (performance.now()) at which all `total` tasks were
 * seen finished. Rejects on any failed task, when nothing finishes for
 * `stallMs` (default 30 s), or when `healthy` throws (a worker died).
 */
export async function waitForDrain(
  producer: Pick<Producer, 'system' | 'progress'>,
  total: number,
  startedAt: number,
  healthy: () => void = () => undefined,
  stallMs = 30_000,
): Promise<number> {
  let lastRemaining = Infinity;
  let lastChangeAt = performance.now();
  for (;;) {
    healthy();
    const p = await producer.progress(total);
    const now = performance.now();
    if (p.failed > 0) throw new DrainError(`${producer.system}: ${p.failed} task(s) failed (a no-op handler never fails)`);
    if (p.remaining <= 0) return now;
    if (p.remaining < lastRemaining) {
      lastRemaining = p.remaining;
      lastChangeAt = now;
    } else if (now - lastChangeAt > stallMs) {
      throw new DrainError(`${producer.system}: ${p.remaining} of ${total} task(s) still unfinished after ${stallMs} ms without progress`);
    }
    await sleep(nextPollDelay(p.remaining, total - p.remaining, now - startedAt));
  }
}

/**
 * The producer's progress reads, counted: what the bench's own polling adds
 * to a run's Redis cost (issue 18 measures around the timed part, polls
 * included).
 */
export function countingPolls(producer: Pick<Producer, 'system' | 'progress'>): { producer: Pick<Producer, 'system' | 'progress'>; polls: () => number } {
  let polls = 0;
  return {
    producer: {
      system: producer.system,
      progress: (total: number) => {
        polls++;
        return producer.progress(total);
      },
    },
    polls: () => polls,
  };
}
