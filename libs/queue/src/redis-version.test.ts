import type { Redis } from 'ioredis';
import { assertRedisVersion } from './redis-version';
import { UnsupportedRedisError } from './errors/unsupported-redis-error';

const serverReporting = (info: string) => ({ info: async () => info }) as unknown as Redis;

describe('assertRedisVersion', () => {
  it.each(['6.2.0', '7.0.15', '8.0.1', '10.1.0'])('accepts Redis %s', async (version) => {
    await expect(assertRedisVersion(serverReporting(`# Server\r\nredis_version:${version}\r\n`))).resolves.toBeUndefined();
  });

  it.each(['6.0.16', '5.0.7', '2.8.0'])('rejects Redis %s with a message naming both versions', async (version) => {
    const check = assertRedisVersion(serverReporting(`redis_version:${version}\r\n`));
    await expect(check).rejects.toBeInstanceOf(UnsupportedRedisError);
    await expect(assertRedisVersion(serverReporting(`redis_version:${version}\r\n`))).rejects.toThrow(
      `taskq needs Redis 6.2 or later; this server runs ${version.split('.').slice(0, 2).join('.')}`,
    );
  });

  it('lets a server that reports no version pass (the in-memory Redis)', async () => {
    await expect(assertRedisVersion(serverReporting(''))).resolves.toBeUndefined();
  });
});
