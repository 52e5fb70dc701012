import type { Cluster, Redis } from 'ioredis';
import type { QueueKeys } from './keys';
import { SCRIPTS } from './lua-script';
import { scriptKeys } from './script-keys';

/** A task whose worker died while running it this many times is Dead instead of going back to the queue. */
export const DEFAULT_MAX_RECOVERIES = 5;

export interface RecoverInput {
  readonly consumerId: string;
  /** Recover only if the last heartbeat is older than this (ms); undefined: unconditionally (own unregister). */
  readonly staleAfterMs: number | undefined;
  readonly reason: string;
  readonly maxRecoveries: number;
  readonly deadMax: number;
}

/**
 * Runs recover.lua: returns a consumer's tasks to the queue and removes it
 * from the registry. Used by the janitor (dead consumers) and by a consumer
 * leaving in order. Returns the number of tasks returned, or -1 if the
 * consumer turned out to be alive.
 */
export async function recoverConsumer(redis: Redis | Cluster, k: QueueKeys, input: RecoverInput): Promise<number> {
  const reply = await SCRIPTS.recover.run(
    redis,
    scriptKeys('recover', k, input.consumerId),
    [k.events, k.wake, input.consumerId, input.staleAfterMs ?? -1, input.reason, input.maxRecoveries, input.deadMax],
  );
  return Number(reply);
}
