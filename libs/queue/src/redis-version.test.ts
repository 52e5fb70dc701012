import type { Redis } from 'ioredis';
import { assertRedisVersion } from './redis-version';
import { UnsupportedRedisError } from './errors/unsupported-redis-error';

/** A client whose HELLO reply (RESP2, flat) reports `version`, and that fails INFO (as a `-@dangerous` user does). */
const serverReporting = (version: string) =>
  ({
    call: async (command: string) => {
      if (command !== 'HELLO') throw new Error(`unexpected ${command}`);
      return ['server', 'redis', 'version', version, 'proto', 2, 'id', 7, 'mode', 'standalone', 'role', 'master', 'modules', []];
    },
    info: async () => {
      throw new Error("NOPERM User tq has no permissions to run the 'info' command");
    },
  }) as unknown as Redis;

describe('assertRedisVersion', () => {
  it.each(['6.2.0', '7.0.15', '8.0.1', '10.1.0'])('accepts Redis %s, asking with HELLO (INFO is @dangerous)', async (version) => {
    await expect(assertRedisVersion(serverReporting(version))).resolves.toBeUndefined();
  });

  it.each(['6.0.16', '6.1.0'])('rejects Redis %s with a message naming both versions', async (version) => {
    const check = assertRedisVersion(serverReporting(version));
    await expect(check).rejects.toBeInstanceOf(UnsupportedRedisError);
    await expect(assertRedisVersion(serverReporting(version))).rejects.toThrow(
      `taskq needs Redis 6.2 or later; this server runs ${version.split('.').slice(0, 2).join('.')}`,
    );
  });

  it('on a Cluster needs 7.0 (SPUBLISH): 6.2 is refused with the reason, 7.0 passes', async () => {
    const node = (version: string): Redis => Object.assign(serverReporting(version), { isCluster: true });
    await expect(assertRedisVersion(node('6.2.14'))).rejects.toThrow(
      'taskq on a Redis Cluster needs Redis 7.0 or later (sharded pub/sub); this cluster runs 6.2',
    );
    await expect(assertRedisVersion(node('7.0.15'))).resolves.toBeUndefined();
  });

  it('rejects a server that does not know HELLO (Redis 5 or older)', async () => {
    const old = { call: async () => Promise.reject(new Error("ERR unknown command 'HELLO'")), info: async () => 'redis_version:5.0.7\r\n' } as unknown as Redis;
    await expect(assertRedisVersion(old)).rejects.toThrow('taskq needs Redis 6.2 or later; this server runs a version without HELLO (5 or older)');
  });

  it('asks INFO when the user may not run HELLO, and lets it pass when it may run neither', async () => {
    const noHello = (info: () => Promise<string>) =>
      ({ call: async () => Promise.reject(new Error("NOPERM User tq has no permissions to run the 'hello' command")), info }) as unknown as Redis;
    await expect(assertRedisVersion(noHello(async () => 'redis_version:6.0.9\r\n'))).rejects.toThrow('this server runs 6.0');
    await expect(assertRedisVersion(noHello(async () => 'redis_version:7.2.4\r\n'))).resolves.toBeUndefined();
    await expect(assertRedisVersion(noHello(async () => Promise.reject(new Error('NOPERM no info'))))).resolves.toBeUndefined();
  });

  it('lets a server that reports no version pass (the in-memory Redis has no call())', async () => {
    await expect(assertRedisVersion({} as unknown as Redis)).resolves.toBeUndefined();
  });
});
