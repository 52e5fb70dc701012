import { getGlobalRedisState, setGlobalRedisState, TEST_REDIS_URL_ENV } from './jest-global-state';

/** jest `globalTeardown`: stops the server `jest-global-setup` started and restores the environment. */
export default async function globalTeardown(): Promise<void> {
  const state = getGlobalRedisState();
  if (state === undefined) return;
  setGlobalRedisState(undefined);
  if (state.previousUrl === undefined) delete process.env[TEST_REDIS_URL_ENV];
  else process.env[TEST_REDIS_URL_ENV] = state.previousUrl;
  await state.server.stop();
}
