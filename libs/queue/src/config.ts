import { DEFAULT_KEY_PREFIX, queueKeys, type QueueKeys } from './keys';

/**
 * How long finished tasks are remembered. Redis memory stays bounded under a
 * continuous stream of tasks: the janitor forgets Done and Cancelled tasks
 * beyond these limits, and the dead-letter and rejected lists are capped.
 */
export interface RetentionOptions {
  /** Forget Done/Cancelled tasks finished longer ago than this, ms. Default 86 400 000 (24 h). */
  readonly maxAgeMs?: number;
  /**
   * Keep at most this many Done tasks and this many Cancelled tasks (the
   * newest of each: the limit applies to the retained and the cancelled list
   * each). Default 10 000.
   */
  readonly maxCount?: number;
  /** Keep at most this many Dead tasks in the dead-letter list (the newest). Default 10 000. */
  readonly deadMax?: number;
  /** Keep at most this many Failed (rejected) tasks (the newest). Default 10 000. */
  readonly rejectedMax?: number;
}

export const DEFAULT_RETENTION: Readonly<Required<RetentionOptions>> = {
  maxAgeMs: 24 * 60 * 60 * 1000,
  maxCount: 10_000,
  deadMax: 10_000,
  rejectedMax: 10_000,
};

/** Which queue a component works on. */
export interface QueueConfig {
  /** Queue name. Default `default`. */
  readonly queue: string;
  /** Prefix of every key. Default `taskq`. */
  readonly prefix?: string;
  /** Retention of finished tasks. Defaults: DEFAULT_RETENTION. */
  readonly retention?: RetentionOptions;
}

export const DEFAULT_QUEUE = 'default';

export function keysOf(config: QueueConfig): QueueKeys {
  return queueKeys(config.queue, config.prefix ?? DEFAULT_KEY_PREFIX);
}

/** The retention of `config` with defaults filled in; throws RangeError on a value < 1. */
export function retentionOf(config: { readonly retention?: RetentionOptions }): Required<RetentionOptions> {
  const r = { ...DEFAULT_RETENTION, ...config.retention };
  for (const [key, value] of Object.entries(r)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`retention.${key} must be a whole number >= 1, got ${value}`);
  }
  return r;
}
