import { connectRedis, redactUrl } from './connect';
import { RedisConnectionError } from './errors/redis-connection-error';

describe('redactUrl', () => {
  it('hides passwords and keeps the address', () => {
    expect(redactUrl('redis://user:s3cret@db.example:6380/2')).toBe('redis://user:***@db.example:6380/2');
    expect(redactUrl('redis://:s3cret@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('redis://s3cret@host:1')).not.toContain('s3cret');
  });
});

describe('connectRedis', () => {
  it('gives up after the connect timeout with an error naming the redacted address', async () => {
    const started = Date.now();
    // port 1 on loopback: nothing listens there
    const err = await connectRedis('redis://:hunter2@127.0.0.1:1', { connectTimeoutMs: 600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisConnectionError);
    expect((err as Error).message).toContain('redis://:***@127.0.0.1:1');
    expect((err as Error).message).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
