import { InvalidTaskError } from './errors/invalid-task-error';

/**
 * How long a failed task waits before its next attempt.
 * - `exponential` (default): `delayMs * 2^(attempt-1)`, capped at `maxDelayMs`,
 *   with jitter (a random 50-100 % of it) unless `jitter: false`.
 * - `fixed`: `delayMs` every time.
 * - `custom`: a strategy registered by name on the worker pool
 *   (`backoffStrategies`), called with the attempt and the error.
 */
export type Backoff =
  | { readonly type: 'exponential'; readonly delayMs?: number; readonly maxDelayMs?: number; readonly jitter?: boolean }
  | { readonly type: 'fixed'; readonly delayMs: number }
  | { readonly type: 'custom'; readonly name: string };

/** A custom backoff: ms to wait before attempt `attempt + 1`, after `attempt` failed with `error`. */
export type BackoffStrategy = (attempt: number, error: unknown) => number;

export const DEFAULT_BACKOFF: Backoff = { type: 'exponential', delayMs: 1000, maxDelayMs: 3_600_000, jitter: true };

const nonNegative = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** Throws InvalidTaskError unless `b` is a backoff taskq knows. */
export function validateBackoff(b: unknown): asserts b is Backoff {
  if (typeof b !== 'object' || b === null) throw new InvalidTaskError(`backoff must be an object, got ${JSON.stringify(b)}`);
  const v = b as Record<string, unknown>;
  switch (v['type']) {
    case 'exponential':
      if (v['delayMs'] !== undefined && !nonNegative(v['delayMs'])) throw new InvalidTaskError('backoff.delayMs must be >= 0');
      if (v['maxDelayMs'] !== undefined && !nonNegative(v['maxDelayMs'])) throw new InvalidTaskError('backoff.maxDelayMs must be >= 0');
      if (v['jitter'] !== undefined && typeof v['jitter'] !== 'boolean') throw new InvalidTaskError('backoff.jitter must be a boolean');
      return;
    case 'fixed':
      if (!nonNegative(v['delayMs'])) throw new InvalidTaskError('backoff.delayMs must be >= 0 for a fixed backoff');
      return;
    case 'custom':
      if (typeof v['name'] !== 'string' || v['name'] === '') throw new InvalidTaskError('a custom backoff needs a name');
      return;
    default:
      throw new InvalidTaskError(`unknown backoff type ${JSON.stringify(v['type'])}: use exponential, fixed or custom`);
  }
}

/**
 * The delay before the next attempt after `attempt` (1-based) failed.
 * Throws if a custom strategy is not registered (the caller then treats the
 * task as unable to retry and reports why).
 */
export function backoffDelay(
  b: Backoff,
  attempt: number,
  error: unknown,
  strategies: ReadonlyMap<string, BackoffStrategy> = new Map(),
  random: () => number = Math.random,
): number {
  switch (b.type) {
    case 'fixed':
      return b.delayMs;
    case 'custom': {
      const strategy = strategies.get(b.name);
      if (!strategy) throw new Error(`no backoff strategy named ${JSON.stringify(b.name)} is registered on this worker`);
      const ms = strategy(attempt, error);
      if (!nonNegative(ms)) throw new Error(`backoff strategy ${b.name} returned ${String(ms)}, not a delay >= 0`);
      return ms;
    }
    case 'exponential': {
      const base = b.delayMs ?? 1000;
      const max = b.maxDelayMs ?? 3_600_000;
      const ms = Math.min(base * 2 ** Math.min(attempt - 1, 40), max);
      return b.jitter === false ? ms : Math.round(ms * (0.5 + random() * 0.5));
    }
  }
}
