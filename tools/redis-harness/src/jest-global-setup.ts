import { getGlobalRedisState, setGlobalRedisState, TEST_REDIS_URL_ENV } from './jest-global-state';
import { startRedisServer } from './redis-server';

/**
 * jest `globalSetup`: starts one throwaway redis-server for the whole run and
 * publishes its URL as `process.env.TASKQ_TEST_REDIS_URL`. Jest starts its
 * workers after global setup, so they inherit the variable. Pair it with
 * `jest-global-teardown`.
 */
export default async function globalSetup(): Promise<void> {
  if (getGlobalRedisState() !== undefined) return; // several projects in one run share one server
  const previousUrl = process.env[TEST_REDIS_URL_ENV];
  const server = await startRedisServer();
  setGlobalRedisState({ server, previousUrl });
  process.env[TEST_REDIS_URL_ENV] = server.url;
}
