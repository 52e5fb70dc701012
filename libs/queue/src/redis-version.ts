import type { Cluster, Redis } from 'ioredis';
import { UnsupportedRedisError } from './errors/unsupported-redis-error';
import { isClusterClient } from './lua-script';

/** The oldest Redis the scripts run on: the batch fetch uses `RPOP key count` (6.2). */
export const MIN_REDIS_VERSION = [6, 2] as const;

/** The oldest Redis taskq runs on as a Cluster: the scripts publish with `SPUBLISH` there (sharded pub/sub, 7.0). */
export const MIN_CLUSTER_REDIS_VERSION = [7, 0] as const;

type Caller = { call?: (command: string, ...args: string[]) => Promise<unknown>; info?: (section: string) => Promise<string> };

function tooOld(found: string, cluster = false): UnsupportedRedisError {
  if (cluster) {
    const [major, minor] = MIN_CLUSTER_REDIS_VERSION;
    return new UnsupportedRedisError(`taskq on a Redis Cluster needs Redis ${major}.${minor} or later (sharded pub/sub); this cluster runs ${found}`);
  }
  const [needMajor, needMinor] = MIN_REDIS_VERSION;
  return new UnsupportedRedisError(`taskq needs Redis ${needMajor}.${needMinor} or later; this server runs ${found}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The server's version as HELLO (no protocol change) reports it: a command
 * every user has, where INFO is in @dangerous and a user limited to taskq's
 * keys (`-@dangerous`) may not run it. A user denied HELLO too falls back to
 * INFO; undefined when neither tells (or for the in-memory Redis).
 */
async function serverVersion(redis: Redis | Cluster): Promise<string | undefined> {
  const r = redis as unknown as Caller;
  if (typeof r.call !== 'function') return undefined; // ioredis-mock: no server to ask
  try {
    const reply = await r.call('HELLO');
    if (Array.isArray(reply)) {
      const at = reply.findIndex((v) => String(v) === 'version');
      if (at >= 0 && at + 1 < reply.length) return String(reply[at + 1]);
    }
    return undefined;
  } catch (err) {
    const message = messageOf(err);
    if (/unknown command/i.test(message)) throw tooOld('a version without HELLO (5 or older)');
    if (!message.startsWith('NOPERM')) throw err;
  }
  try {
    const info = await r.info?.('server');
    return /redis_version:(\d+\.\d+[^\r\n]*)/.exec(typeof info === 'string' ? info : '')?.[1];
  } catch (err) {
    if (messageOf(err).startsWith('NOPERM')) return undefined;
    throw err;
  }
}

/**
 * Rejects with UnsupportedRedisError when the server reports a version older
 * than MIN_REDIS_VERSION (on a Cluster, the node asked: MIN_CLUSTER_REDIS_VERSION).
 * A server that does not report one passes.
 */
export async function assertRedisVersion(redis: Redis | Cluster): Promise<void> {
  const version = await serverVersion(redis);
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const cluster = isClusterClient(redis);
  const [needMajor, needMinor] = cluster ? MIN_CLUSTER_REDIS_VERSION : MIN_REDIS_VERSION;
  if (major < needMajor || (major === needMajor && minor < needMinor)) throw tooOld(`${m[1]}.${m[2]}`, cluster);
}
