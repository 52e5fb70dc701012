import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { Redis } from 'ioredis';
import { AppProcess, killAllApps } from './test-support/app-process';

afterEach(async () => {
  await killAllApps();
});

const APPS = ['worker', 'producer'] as const;
const USAGE = { worker: 'worker [concurrency] [options]', producer: 'producer [count] [options]' } as const;

/** The app's whole output (stdout and stderr), for checks that a secret never shows. */
function everything(proc: AppProcess): string {
  return `${proc.stdoutLines.join('\n')}\n${proc.stderr}`;
}

describe('a bad --redis URL: usage error, exit 2, the password never printed', () => {
  it.each(APPS)('%s with a port that is not a number (Node used to print the whole URL in its DEP0170 warning)', async (app) => {
    const proc = AppProcess.start(app, ['2', '--redis', 'redis://tq:S3cretPW@127.0.0.1:notaport']);
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(2);
    expect(proc.stderr).toContain(USAGE[app]);
    expect(proc.stderr).toContain('invalid Redis URL redis://***@127.0.0.1:notaport: the port must be a number from 1 to 65535, got "notaport"');
    expect(everything(proc)).not.toContain('S3cretPW');
    expect(everything(proc)).not.toContain('DEP0170');
  });

  it.each(APPS)('%s with an http:// URL names the scheme', async (app) => {
    const proc = AppProcess.start(app, ['2', '--redis', 'http://tq:S3cretPW@127.0.0.1:1']);
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(2);
    expect(proc.stderr).toContain('invalid Redis URL http://tq:***@127.0.0.1:1: the scheme is http://; taskq connects with redis:// or rediss:// (TLS)');
    expect(everything(proc)).not.toContain('S3cretPW');
  });
});

describe('a Redis that cannot be used: the apps fail at once with the reason, not after the connect timeout', () => {
  let server: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    await admin.call('ACL', 'SETUSER', 'tq', 'on', '>right', '~*', '&*', '+@all');
  });

  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  it.each(APPS)('%s with a wrong password, and with a database the server does not have', async (app) => {
    for (const [url, reason] of [
      [`redis://tq:S3cretPW@127.0.0.1:${server.port}`, 'authentication failed: WRONGPASS'],
      [`redis://127.0.0.1:${server.port}/99`, 'the server has no such database: ERR DB index is out of range'],
    ] as const) {
      const started = Date.now();
      const proc = AppProcess.start(app, ['2', '--redis', url, '--connect-timeout-ms', '8000']);
      const exit = await proc.waitForExit(15_000);
      expect(exit.code).toBe(1);
      expect(exit.at - started).toBeLessThan(5000); // not the 8 s connect timeout
      expect(everything(proc)).toContain(reason);
      expect(everything(proc)).not.toContain('S3cretPW');
      expect(proc.stdoutLines.filter((l) => l.includes('pool of') || l.includes('enqueued'))).toEqual([]);
    }
  });
});
