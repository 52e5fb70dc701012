import globalSetup from './jest-global-setup';
import globalTeardown from './jest-global-teardown';
import { TEST_REDIS_URL_ENV } from './jest-global-state';
import { respCommand } from './resp';
import { probePort } from './test-support/probe';

function portOf(url: string | undefined): number {
  const match = /^redis:\/\/127\.0\.0\.1:(\d+)$/.exec(url ?? '');
  if (!match) throw new Error(`not a harness URL: ${url}`);
  return Number(match[1]);
}

describe('jest global setup', () => {
  it('hands this run a live Redis through TASKQ_TEST_REDIS_URL (loaded through ts-jest by jest.config.cjs)', async () => {
    const port = portOf(process.env[TEST_REDIS_URL_ENV]);
    expect(port).not.toBe(6379);
    expect(await respCommand(port, ['PING'])).toBe('PONG');
  });

  it('starts a server in setup and stops it in teardown, restoring the variable', async () => {
    // Called directly, the pair runs in this test's global object, not jest's main one,
    // so it starts a second server and leaves the run's server alone.
    const before = process.env[TEST_REDIS_URL_ENV];
    await globalSetup();
    const url = process.env[TEST_REDIS_URL_ENV];
    expect(url).not.toBe(before);
    const port = portOf(url);
    try {
      expect(await respCommand(port, ['PING'])).toBe('PONG');
      await globalSetup(); // idempotent: a second project's setup shares the server
      expect(process.env[TEST_REDIS_URL_ENV]).toBe(url);
    } finally {
      await globalTeardown();
    }
    expect(process.env[TEST_REDIS_URL_ENV]).toBe(before);
    expect(await probePort(port)).toBe('refused');
    expect(await respCommand(portOf(before), ['PING'])).toBe('PONG');
    await globalTeardown(); // nothing left to stop: harmless
  });
});
