import { getGlobalRedisState, setGlobalRedisState, TEST_REDIS_URL_ENV, TEST_TOPOLOGY_ENV } from './jest-global-state';
import { startRedisCluster } from './redis-cluster';
import { startRedisServer } from './redis-server';

/**
 * jest `globalSetup`: starts one throwaway redis-server for the whole run, or
 * with `TASKQ_TEST_TOPOLOGY=cluster` a Redis Cluster of 3 masters, and
 * publishes its URL (`redis://…`, or `redis+cluster://…` naming every node) as
 * `process.env.TASKQ_TEST_REDIS_URL`. Jest starts its workers after global
 * setup, so they inherit the variables. Pair it with `jest-global-teardown`.
 */
export default async function globalSetup(): Promise<void> {
  if (getGlobalRedisState() !== undefined) return; // several projects in one run share one server
  const previousUrl = process.env[TEST_REDIS_URL_ENV];
  const server = process.env[TEST_TOPOLOGY_ENV] === 'cluster' ? await startRedisCluster() : await startRedisServer();
  setGlobalRedisState({ server, previousUrl });
  process.env[TEST_REDIS_URL_ENV] = server.url;
}
