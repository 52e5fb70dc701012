import globalSetup from './jest-global-setup';
import globalTeardown from './jest-global-teardown';
import { TEST_REDIS_URL_ENV, TEST_TOPOLOGY_ENV } from './jest-global-state';
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

  it(`with ${TEST_TOPOLOGY_ENV}=cluster starts a cluster of 3 masters (its URL naming each), and the teardown says what each node holds`, async () => {
    const before = process.env[TEST_REDIS_URL_ENV];
    process.env[TEST_TOPOLOGY_ENV] = 'cluster';
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      await globalSetup();
      const ports = /^redis\+cluster:\/\/127\.0\.0\.1:(\d+),127\.0\.0\.1:(\d+),127\.0\.0\.1:(\d+)$/.exec(process.env[TEST_REDIS_URL_ENV] ?? '')?.slice(1).map(Number);
      expect(ports).toHaveLength(3);
      for (const port of ports ?? []) expect(String(await respCommand(port, ['CLUSTER', 'INFO']))).toMatch(/cluster_state:ok/);
      await globalTeardown();
      expect(written.join('')).toMatch(/^\ntest cluster: :\d+ 0 keys, 0 hash tags; :\d+ 0 keys, 0 hash tags; :\d+ 0 keys, 0 hash tags\n$/);
      for (const port of ports ?? []) expect(await probePort(port)).toBe('refused');
      expect(process.env[TEST_REDIS_URL_ENV]).toBe(before);
    } finally {
      write.mockRestore();
      delete process.env[TEST_TOPOLOGY_ENV];
      await globalTeardown();
    }
  }, 30_000);
});
