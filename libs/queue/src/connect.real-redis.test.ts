import { assertValidRedisUrl, connectRedis, redactUrl } from './connect';
import { parseClusterUrl } from './cluster-url';
import { InvalidRedisUrlError } from './errors/invalid-redis-url-error';
import { RedisConnectionError } from './errors/redis-connection-error';
import { RedisHandle } from './redis-handle';
import { useRedisServer } from './test-support/redis-server';

/** Rejects with what `promise` rejects with, and how long it took (ms). */
async function failure(promise: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (err) {
    return { err, ms: Date.now() - started };
  }
  throw new Error('it connected');
}

describe('assertValidRedisUrl', () => {
  it.each([
    ['redis://tq:PW@host:notaport', 'invalid Redis URL redis://***@host:notaport: the port must be a number from 1 to 65535, got "notaport"'],
    ['redis://tq:PW@host:0', 'invalid Redis URL redis://tq:***@host:0: the port must be a number from 1 to 65535, got "0"'],
    ['redis://:PW@host:70000', 'invalid Redis URL redis://***@host:70000: the port must be a number from 1 to 65535, got "70000"'],
    ['http://tq:PW@127.0.0.1:1', 'invalid Redis URL http://tq:***@127.0.0.1:1: the scheme is http://; taskq connects with redis:// or rediss:// (TLS), redis+cluster:// to a Redis Cluster, or redis+sentinel:// to a master through Redis Sentinel'],
    ['redis+cluster://tq:PW@h1:7000,h2', 'invalid Redis Cluster URL redis+cluster://***@h1:7000,h2: each node is host:port with a port from 1 to 65535, got "h2"'],
    ['redis+cluster://h1:7000,h2:70000', 'invalid Redis Cluster URL redis+cluster://h1:7000,h2:70000: each node is host:port with a port from 1 to 65535, got "h2:70000"'],
    ['redis+cluster://h1:7000/2', 'invalid Redis Cluster URL redis+cluster://h1:7000/2: expected redis+cluster://[user:password@]host:port,host:port (no database: a cluster has only 0, no options)'],
    ['redis+cluster://', 'invalid Redis Cluster URL redis+cluster://: expected redis+cluster://[user:password@]host:port,host:port (no database: a cluster has only 0, no options)'],
    ['127.0.0.1:6379', 'invalid Redis URL 127.0.0.1:6379: expected redis://host:port (or rediss:// for TLS)'],
    ['localhost', 'invalid Redis URL localhost: expected redis://host:port (or rediss:// for TLS)'],
    ['redis://host/abc', 'invalid Redis URL redis://host/abc: the path must be a database number (/0, /1, …), got "/abc"'],
  ])('refuses %s without showing its password', (url, message) => {
    expect(() => assertValidRedisUrl(url)).toThrow(new InvalidRedisUrlError(message));
    expect(() => new RedisHandle(url)).toThrow(InvalidRedisUrlError);
  });

  it('parses a cluster URL: every node a seed, the credentials, TLS; prints it without them', () => {
    expect(parseClusterUrl('redis+cluster://h1:7000,10.0.0.2:7001,[::1]:7002')).toEqual({
      seeds: [{ host: 'h1', port: 7000 }, { host: '10.0.0.2', port: 7001 }, { host: '::1', port: 7002 }],
      tls: false,
    });
    expect(parseClusterUrl('rediss+cluster://tq:p%40ss@h:7000/')).toEqual({ seeds: [{ host: 'h', port: 7000 }], username: 'tq', password: 'p@ss', tls: true });
    expect(parseClusterUrl('redis+cluster://secret@h:7000')).toEqual({ seeds: [{ host: 'h', port: 7000 }], password: 'secret', tls: false });
    expect(redactUrl('redis+cluster://tq:PW@h1:7000,h2:7001')).toBe('redis+cluster://***@h1:7000,h2:7001');
    expect(redactUrl('redis+cluster://h1:7000')).toBe('redis+cluster://h1:7000');
  });

  it.each(['redis://127.0.0.1:6379', 'redis://h', 'rediss://u:p@h:6380/2', 'redis://[::1]:6380/3', 'redis://h:6379?family=6', '/run/redis.sock', 'redis+cluster://h1:7000,h2:7001'])('accepts %s', (url) => {
    expect(() => assertValidRedisUrl(url)).not.toThrow();
  });

  it('gives InvalidRedisUrlError the code TASKQ_INVALID_REDIS_URL', () => {
    expect(new InvalidRedisUrlError('x').code).toBe('TASKQ_INVALID_REDIS_URL');
  });
});

describe('connectRedis fails at once when retrying cannot help (real redis-server)', () => {
  const real = useRedisServer();

  beforeAll(async () => {
    await real.redis.call('ACL', 'SETUSER', 'tq', 'on', '>right', '~*', '&*', '+@all');
  });

  it('a wrong password (WRONGPASS), naming the reason and not the password', async () => {
    const { err, ms } = await failure(connectRedis(`redis://tq:wrong-pw@127.0.0.1:${real.server.port}`, { connectTimeoutMs: 5000 }));
    expect(err).toBeInstanceOf(RedisConnectionError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot connect to Redis at redis://tq:\\*\\*\\*@127\\.0\\.0\\.1:${real.server.port}: authentication failed: WRONGPASS`));
    expect((err as Error).message).not.toContain('wrong-pw');
    expect(ms).toBeLessThan(2000);
  });

  it('a database the server does not have', async () => {
    const { err, ms } = await failure(connectRedis(`redis://127.0.0.1:${real.server.port}/99`, { connectTimeoutMs: 5000 }));
    expect(err).toBeInstanceOf(RedisConnectionError);
    expect((err as Error).message).toBe(`cannot connect to Redis at redis://127.0.0.1:${real.server.port}/99: the server has no such database: ERR DB index is out of range`);
    expect(ms).toBeLessThan(2000);
  });

  it('an unknown host name (ENOTFOUND)', async () => {
    const { err, ms } = await failure(connectRedis('redis://nohost.invalid:6379', { connectTimeoutMs: 5000 }));
    expect(err).toBeInstanceOf(RedisConnectionError);
    expect((err as Error).message).toMatch(/^cannot connect to Redis at redis:\/\/nohost\.invalid:6379: unknown host: getaddrinfo ENOTFOUND nohost\.invalid/);
    expect(ms).toBeLessThan(2000);
  });
});
