/** Environment variable through which the jest global setup hands the server's URL to tests. */
export const TEST_REDIS_URL_ENV = 'TASKQ_TEST_REDIS_URL';

/**
 * Environment variable that picks what the jest global setup starts:
 * `cluster` a Redis Cluster of 3 masters (its URL `redis+cluster://…`),
 * anything else (or unset) one redis-server (`redis://…`).
 */
export const TEST_TOPOLOGY_ENV = 'TASKQ_TEST_TOPOLOGY';

/** What the global setup started: one server or a cluster, either stopped by the teardown. */
export interface GlobalRedis {
  readonly url: string;
  /** A cluster's: what each node holds (see RedisCluster.spread). */
  spread?(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * What the global setup leaves for the global teardown. Both run in jest's
 * main process, so globalThis is shared between them (and not with tests).
 */
export interface GlobalRedisState {
  readonly server: GlobalRedis;
  /** The variable's value before setup, restored by teardown. */
  readonly previousUrl: string | undefined;
}

const STATE_KEY = Symbol.for('taskq.redisHarness.globalServer');

type HarnessGlobal = typeof globalThis & { [STATE_KEY]?: GlobalRedisState };

export function getGlobalRedisState(): GlobalRedisState | undefined {
  return (globalThis as HarnessGlobal)[STATE_KEY];
}

export function setGlobalRedisState(state: GlobalRedisState | undefined): void {
  if (state === undefined) delete (globalThis as HarnessGlobal)[STATE_KEY];
  else (globalThis as HarnessGlobal)[STATE_KEY] = state;
}
