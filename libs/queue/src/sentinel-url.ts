import type { Redis, RedisOptions } from 'ioredis';
import { InvalidRedisUrlError } from './errors/invalid-redis-url-error';

/** What a `redis+sentinel://` URL says: the sentinels, the master group's name, the master's credentials and database. */
export interface SentinelUrl {
  readonly sentinels: readonly { host: string; port: number }[];
  /** The master group's name, as in `sentinel monitor <name> …`. */
  readonly name: string;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  /** Credentials of the sentinels themselves (`?sentinelUsername=…&sentinelPassword=…`), when they need any. */
  readonly sentinelUsername?: string;
  readonly sentinelPassword?: string;
}

const SENTINEL_SCHEME = /^redis\+sentinel:\/\//i;
/** The port a sentinel listens on when the URL names none. */
export const DEFAULT_SENTINEL_PORT = 26379;

/** Whether `url` names a master through Redis Sentinel: `redis+sentinel://`. */
export function isSentinelUrl(url: string): boolean {
  return SENTINEL_SCHEME.test(url);
}

/** `redis+sentinel://***@h1:26379,h2:26379/mymaster?sentinelPassword=***`: the credentials hidden. */
export function redactSentinelUrl(url: string): string {
  return url.replace(/^([^:]+:\/\/)[^@/]*@/, '$1***@').replace(/([?&]sentinelPassword=)[^&#]*/gi, '$1***');
}

function decode(part: string, shown: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: a malformed %-escape in the ${what}`);
  }
}

/**
 * Parses `redis+sentinel://[user:password@]host[:port][,host[:port]…]/<name>[/<db>]`
 * with optional `?sentinelUsername=…&sentinelPassword=…`: the listed hosts are
 * sentinels (port 26379 when none is given), `<name>` the master group they
 * watch; user, password and database are the master's. Throws
 * InvalidRedisUrlError naming the problem and the redacted URL.
 */
export function parseSentinelUrl(url: string): SentinelUrl {
  const shown = redactSentinelUrl(url);
  const expected = 'expected redis+sentinel://[user:password@]host:port[,host:port…]/<master name>[/<db>]';
  const scheme = SENTINEL_SCHEME.exec(url);
  if (!scheme) throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: ${expected}`);
  let rest = url.slice(scheme[0].length);
  if (rest.includes('#')) throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: ${expected} (no #fragment)`);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    username = decode(colon >= 0 ? auth.slice(0, colon) : auth, shown, 'user or password') || undefined;
    password = colon >= 0 ? decode(auth.slice(colon + 1), shown, 'user or password') : undefined;
    // `redis+sentinel://secret@host/name` means a password, as for redis:// URLs in ioredis
    if (password === undefined && username !== undefined) [username, password] = [undefined, username];
  }
  const slash = rest.indexOf('/');
  const hosts = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1).replace(/\/$/, '') : '';
  if (hosts === '') throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: no sentinel; ${expected}`);
  const sentinels = hosts.split(',').map((node) => {
    const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(node);
    const port = m?.[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[2]);
    if (!m || !(port >= 1 && port <= 65535)) {
      throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: each sentinel is host or host:port with a port from 1 to 65535, got ${JSON.stringify(node)}`);
    }
    return { host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
  });
  const segments = path === '' ? [] : path.split('/');
  const name = decode(segments[0] ?? '', shown, 'master name');
  if (name === '') throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: no master name; ${expected}`);
  const dbText = segments[1];
  if (segments.length > 2 || (dbText !== undefined && !/^\d{1,9}$/.test(dbText))) {
    throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: after the master name only a database number may follow (/0, /1, …), got ${JSON.stringify('/' + path)}`);
  }
  let sentinelUsername: string | undefined;
  let sentinelPassword: string | undefined;
  for (const pair of query === '' ? [] : query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq >= 0 ? pair.slice(0, eq) : pair;
    const value = decode(eq >= 0 ? pair.slice(eq + 1) : '', shown, `${key} option`);
    if (key === 'sentinelUsername') sentinelUsername = value;
    else if (key === 'sentinelPassword') sentinelPassword = value;
    else throw new InvalidRedisUrlError(`invalid Redis Sentinel URL ${shown}: unknown option ${JSON.stringify(key)} (known: sentinelUsername, sentinelPassword)`);
  }
  return {
    sentinels,
    name,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    db: dbText === undefined ? 0 : Number(dbText),
    ...(sentinelUsername !== undefined ? { sentinelUsername } : {}),
    ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
  };
}

/** The ioredis options of a parsed Sentinel URL (plain data: a worker thread can be given them). */
export function sentinelOptionsOf(parsed: SentinelUrl): RedisOptions {
  return {
    sentinels: parsed.sentinels.map((s) => ({ ...s })),
    name: parsed.name,
    ...(parsed.username !== undefined ? { username: parsed.username } : {}),
    ...(parsed.password !== undefined ? { password: parsed.password } : {}),
    ...(parsed.db !== 0 ? { db: parsed.db } : {}),
    ...(parsed.sentinelUsername !== undefined ? { sentinelUsername: parsed.sentinelUsername } : {}),
    ...(parsed.sentinelPassword !== undefined ? { sentinelPassword: parsed.sentinelPassword } : {}),
  };
}

/**
 * What taskq adds to a client of a master found through Sentinel:
 * - `failoverDetector`: it listens for `+switch-master` on the sentinels and
 *   reconnects at once to the new master (else it would notice only when its
 *   socket to the old one fails);
 * - `reconnectOnError` for READONLY: a command that reached the old master
 *   after it was made a replica (a failover with the old master alive) is
 *   sent again after reconnecting through the sentinels; a replica refuses the
 *   write before doing any, so sending it again cannot apply it twice.
 * A `reconnectOnError` of the caller's is kept.
 */
export function sentinelClientDefaults(options: RedisOptions): RedisOptions {
  if (!options.sentinels || options.sentinels.length === 0) return {};
  return {
    failoverDetector: options.failoverDetector ?? true,
    reconnectOnError: options.reconnectOnError ?? ((err: Error) => (err.message.startsWith('READONLY') ? 2 : false)),
  };
}

/**
 * Closes the sentinel connections of a client's failoverDetector when the
 * client ends. ioredis closes them on disconnect() only: after quit() they
 * stay subscribed to the sentinels and keep the process from exiting. Only
 * the detector is cleaned up: the connector's own disconnect() would arm its
 * disconnectTimeout (2 s) for a socket that is closed already, a timer that
 * kept the process alive 2 s after everything was closed.
 */
export function releaseSentinelsOnEnd(redis: Redis): void {
  if (!redis.options.failoverDetector) return;
  redis.on('end', () => (redis as unknown as { connector?: { failoverDetector?: { cleanup(): void } | null } }).connector?.failoverDetector?.cleanup());
}
