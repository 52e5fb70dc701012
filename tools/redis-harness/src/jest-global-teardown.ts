import { getGlobalRedisState, setGlobalRedisState, TEST_REDIS_URL_ENV } from './jest-global-state';

/**
 * jest `globalTeardown`: stops the server (or cluster) `jest-global-setup`
 * started and restores the environment. A cluster's nodes first say what
 * they hold, so that a run shows its queues were spread over them:
 * `test cluster: :7000 1520 keys, 48 hash tags; :7001 …`.
 */
export default async function globalTeardown(): Promise<void> {
  const state = getGlobalRedisState();
  if (state === undefined) return;
  setGlobalRedisState(undefined);
  const spread = await state.server.spread?.().catch((err: unknown) => [`(not read: ${String(err)})`]);
  if (spread !== undefined) process.stdout.write(`\ntest cluster: ${spread.join('; ')}\n`);
  if (state.previousUrl === undefined) delete process.env[TEST_REDIS_URL_ENV];
  else process.env[TEST_REDIS_URL_ENV] = state.previousUrl;
  await state.server.stop();
}
