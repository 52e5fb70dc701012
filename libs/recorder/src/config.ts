import { DEFAULT_KEY_PREFIX, queueKeys, type QueueKeys } from './keys';

/** Which queue a component works on. */
export interface QueueConfig {
  /** Queue name. Default `default`. */
  readonly queue: string;
  /** Prefix of every key. Default `taskq`. */
  readonly prefix?: string;
}

export const DEFAULT_QUEUE = 'default';

export function keysOf(config: QueueConfig): QueueKeys {
  return queueKeys(config.queue, config.prefix ?? DEFAULT_KEY_PREFIX);
}
