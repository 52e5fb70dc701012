import type { Redis } from 'ioredis';
import type { BenchPlan } from '../plan';
import type { RedisTarget } from '../systems/producer';

/** What every scenario gets: the bench's redis-server, an admin connection to it, the sizes. */
export interface BenchContext {
  readonly target: RedisTarget;
  /** For FLUSHALL and INFO only; each system opens its own connections. */
  readonly admin: Redis;
  /** The redis-server's pid (the cluster scenario reads its CPU time from /proc). */
  readonly serverPid: number;
  readonly plan: BenchPlan;
}

/** Thrown when a system stored, ran or reported fewer tasks than it was given. */
export class LostTasksError extends Error {
  override readonly name = 'LostTasksError';
}

/** Thrown when a run's outcome fails one of its scenario's checks (weighted: a queue's count, its priority order, a queue left undrained). */
export class RunCheckError extends Error {
  override readonly name = 'RunCheckError';
}
