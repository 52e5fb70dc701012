import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { silentLogger, type Logger } from '@taskq/recorder';
import { assertValidRedisUrl, connectRedisClient, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REDIS_URL, describeOptions, redactUrl } from './connect';
import { ConnectionClosedError } from './errors/connection-closed-error';
import { isClusterUrl, parseClusterUrl, type ClusterUrl } from './cluster-url';
import { isSentinelUrl, parseSentinelUrl, releaseSentinelsOnEnd, sentinelOptionsOf } from './sentinel-url';
import { UnsupportedRedisError } from './errors/unsupported-redis-error';
import { SHARD_REFRESH_MS } from './pubsub';
import { guardStateRestore } from './reconnect-guard';

/** An ioredis client taskq can run its commands on. */
export type RedisClient = Redis | Cluster;

/**
 * How a taskq object reaches Redis: a URL (`redis://user:pass@host:6379/0`,
 * `rediss://…`, `redis+cluster://h:p,h:p`, `redis+sentinel://h:p,h:p/mymaster`), ioredis options (`{ host, port, password }`, `{ sentinels,
 * name }`), or an ioredis client you made (Redis or Cluster). taskq closes the
 * connections it opened itself; a client you pass stays yours to close.
 */
export type Connection = string | RedisOptions | RedisClient;

/** Where a heartbeat thread connects: a URL (a `redis+cluster://` one parsed as well), or the plain options of a standalone server or of a master found through Sentinel. */
export type ThreadTarget = { readonly url: string } | { readonly options: RedisOptions } | { readonly cluster: ClusterUrl };

export interface RedisHandleOptions {
  /** Give up if the first connection is not ready within this time, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Connection name shown by CLIENT LIST (subscriber connections add `-sub`). Default none. */
  readonly connectionName?: string;
  /** Logs reconnects. Default silent. */
  readonly logger?: Logger;
}

function isClient(c: Connection): c is RedisClient {
  return typeof c === 'object' && c !== null && typeof (c as Partial<Redis>).duplicate === 'function' && typeof (c as Partial<Redis>).evalsha === 'function';
}

/** Options a worker thread can be given (no functions), for a standalone or sentinel server. */
const THREAD_OPTION_KEYS = ['host', 'port', 'path', 'family', 'username', 'password', 'db', 'tls', 'sentinels', 'name', 'role', 'sentinelUsername', 'sentinelPassword', 'sentinelTLS', 'enableTLSForSentinelMode', 'natMap'] as const;

function threadOptionsOf(options: RedisOptions): RedisOptions {
  const out: Record<string, unknown> = {};
  for (const key of THREAD_OPTION_KEYS) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && value !== null && typeof value !== 'function') out[key] = value;
  }
  return out;
}

/**
 * What a thread needs to reach the same server and database: undefined when
 * that cannot be sent to a thread (a custom Connector, a natMap function). A
 * given client that ran SELECT (ioredis keeps the db it selected) gives that db.
 */
function threadTargetOf(options: RedisOptions, selected: unknown): ThreadTarget | undefined {
  if (options.Connector !== undefined || typeof (options as { natMap?: unknown }).natMap === 'function') return undefined;
  const out = threadOptionsOf(options) as Record<string, unknown>;
  if (typeof selected === 'number' && Number.isInteger(selected)) {
    if (selected === 0) delete out['db'];
    else out['db'] = selected;
  }
  return { options: out };
}

/**
 * A given Cluster client's seeds and credentials, for a thread's own Cluster
 * client; undefined when they cannot be sent to a thread (seeds given as
 * other than host and port, a natMap function, a custom Connector).
 */
function clusterTargetOf(cluster: Cluster): ThreadTarget | undefined {
  const o = cluster.options as { redisOptions?: RedisOptions; natMap?: unknown };
  if (o.natMap !== undefined || o.redisOptions?.Connector !== undefined) return undefined;
  const seeds: { host: string; port: number }[] = [];
  for (const node of (cluster as unknown as { startupNodes: unknown[] }).startupNodes) {
    const n = node as { host?: unknown; port?: unknown };
    if (typeof n !== 'object' || n === null || typeof n.port !== 'number') return undefined;
    seeds.push({ host: typeof n.host === 'string' ? n.host : '127.0.0.1', port: n.port });
  }
  if (seeds.length === 0) return undefined;
  const r = o.redisOptions ?? {};
  return {
    cluster: {
      seeds,
      ...(r.username !== undefined ? { username: r.username } : {}),
      ...(r.password !== undefined ? { password: r.password } : {}),
      tls: r.tls !== undefined,
    },
  };
}

/** ioredis's keyPrefix would prefix the KEYS of taskq's scripts but not the keys they name themselves, nor its channels. */
function refuseKeyPrefix(connection: Connection): void {
  const options: unknown = typeof connection === 'string' ? undefined : isClient(connection) ? (connection as { options?: unknown }).options : connection;
  const o = options as { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } } | undefined;
  const prefix = o?.keyPrefix ?? o?.redisOptions?.keyPrefix; // a Cluster's is in redisOptions
  if (typeof prefix === 'string' && prefix !== '') {
    throw new UnsupportedRedisError(
      `taskq does not support ioredis's keyPrefix option (${JSON.stringify(prefix)}): its scripts name keys themselves and its channels are not prefixed; use taskq's own \`prefix\` option (or another queue name or database) instead`,
    );
  }
}

/**
 * One taskq object's way to Redis: the client for commands (connected on first
 * use), subscriber connections (pub/sub needs its own), and where a heartbeat
 * thread can connect. Closes what it opened, never a client it was given.
 * Once closed it stays closed (commands reject with ConnectionClosedError)
 * until its owner calls reopen().
 */
export class RedisHandle {
  /** Where the connection goes, with any password redacted. */
  readonly address: string;
  private readonly given: RedisClient | undefined;
  private readonly target: string | RedisOptions | undefined;
  private connecting: Promise<RedisClient> | undefined;
  private opened: RedisClient | undefined;
  private closed = false;
  /** Bumped by close(): a connect that was under way then is discarded when it lands. */
  private epoch = 0;

  constructor(
    connection: Connection = DEFAULT_REDIS_URL,
    private readonly options: RedisHandleOptions = {},
  ) {
    refuseKeyPrefix(connection);
    if (typeof connection === 'string') assertValidRedisUrl(connection);
    if (isClient(connection)) {
      this.given = connection;
      const o = (connection as { options?: RedisOptions }).options;
      this.address = o && !('isCluster' in connection && connection.isCluster) ? describeOptions(o) : 'the given Redis client';
    } else {
      this.target = connection;
      this.address = typeof connection === 'string' ? redactUrl(connection) : describeOptions(connection);
    }
  }

  /** Whether the client is the caller's (taskq never closes it). */
  get isGiven(): boolean {
    return this.given !== undefined;
  }

  /** Whether close() was called (and reopen() not since). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The client for commands, once connected (undefined before the first `client()` resolved, and after close()). */
  get current(): RedisClient | undefined {
    return this.closed ? undefined : (this.given ?? this.opened);
  }

  /**
   * The client for commands. The first call connects a URL or options (bounded
   * retries; RedisConnectionError naming the address after connectTimeoutMs).
   * After close() it rejects with ConnectionClosedError.
   */
  client(): RedisClient | Promise<RedisClient> {
    if (this.closed) return Promise.reject(new ConnectionClosedError(this.address));
    if (this.given) return this.given;
    if (this.opened) return this.opened;
    const epoch = this.epoch;
    this.connecting ??= connectRedisClient(this.target ?? DEFAULT_REDIS_URL, {
      connectTimeoutMs: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      connectionName: this.options.connectionName,
      logger: this.options.logger ?? silentLogger,
    }).then(
      (redis) => {
        if (this.epoch !== epoch) {
          redis.disconnect();
          throw new ConnectionClosedError(this.address); // closed while it was being opened
        }
        this.opened = redis;
        return redis;
      },
      (err: unknown) => {
        if (this.epoch === epoch) this.connecting = undefined; // the next call tries again
        throw err;
      },
    );
    return this.connecting;
  }

  /**
   * A new connection to the same server, for pub/sub (a subscriber runs no
   * other command), named `<name>-sub` after the given client's connection
   * name (else this handle's). It is the caller's to close (QueueClient
   * closes the ones its object made); it reconnects by itself. It queues
   * commands while connecting even when the base client does not
   * (`enableOfflineQueue: false`), so that SUBSCRIBE waits for the socket.
   */
  async duplicate(): Promise<Redis> {
    const base = await this.client();
    const baseName = this.given ? (connectionNameOf(base) ?? this.options.connectionName) : this.options.connectionName;
    const sub = duplicateClient(base, { enableOfflineQueue: true, ...(baseName ? { connectionName: `${baseName}-sub` } : {}) });
    sub.on('error', (err: Error) => (this.options.logger ?? silentLogger).debug({ err: err.message }, `subscriber connection to ${this.address}: ${err.message}`));
    return sub;
  }

  /**
   * Where a worker thread can open its own connection: the URL or plain
   * options this handle was made from, or those of a standalone ioredis client,
   * or a Cluster's seeds and credentials. Undefined for clients without a
   * socket (ioredis-mock) and for what a thread cannot be given.
   */
  threadTarget(): ThreadTarget | undefined {
    if (typeof this.target === 'string') {
      if (isClusterUrl(this.target)) return { cluster: parseClusterUrl(this.target) };
      if (isSentinelUrl(this.target)) return { options: sentinelOptionsOf(parseSentinelUrl(this.target)) };
      return { url: this.target };
    }
    if (this.target !== undefined) return threadTargetOf(this.target, undefined);
    const client = this.given as (RedisClient & { connector?: unknown; isCluster?: boolean; options?: RedisOptions; condition?: { select?: unknown } }) | undefined;
    if (client?.isCluster) return clusterTargetOf(client);
    if (!client || client.connector === undefined || client.options === undefined) return undefined;
    return threadTargetOf(client.options, client.condition?.select);
  }

  /**
   * Closes the connection this handle opened (never a given client); later
   * commands reject with ConnectionClosedError. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.epoch++;
    const opened = this.opened;
    this.opened = undefined;
    const pending = this.connecting;
    this.connecting = undefined;
    if (opened) await quitQuietly(opened);
    await pending?.catch(() => undefined);
  }

  /** Lets a closed handle connect again on the next command (its owner starting again). */
  reopen(): void {
    this.closed = false;
  }
}

/** The CLIENT SETNAME name `client` connects with, if any: a Cluster's is in its redisOptions (its own options are the cluster's). */
export function connectionNameOf(client: RedisClient): string | undefined {
  const options = (client as { isCluster?: boolean }).isCluster ? (client as Cluster).options.redisOptions : (client as { options?: RedisOptions }).options;
  return options?.connectionName;
}

/**
 * A new connection to what `client` connects to (a server, or a Cluster: its
 * seeds and cluster options), for pub/sub, with `options` over the client's:
 * the caller's to close. On a Cluster: with sharded subscribers (one
 * connection per master, for the shard channels: subscribe with
 * subscribeChannels) and a slot map reloaded every SHARD_REFRESH_MS.
 */
export function duplicateClient(client: RedisClient, options: { readonly connectionName?: string; readonly enableOfflineQueue?: boolean }): Redis {
  if (!(client as { isCluster?: boolean }).isCluster) {
    const dup = guardStateRestore((client as Redis).duplicate(options));
    releaseSentinelsOnEnd(dup);
    return dup;
  }
  const cluster = client as Cluster;
  const { enableOfflineQueue, connectionName } = options;
  const redisOptions = { ...cluster.options.redisOptions, ...(connectionName !== undefined ? { connectionName } : {}) };
  // sharded subscribers: the queue scripts SPUBLISH on a Cluster (see pubsub.ts)
  const sub = cluster.duplicate([], {
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    redisOptions,
    shardedSubscribers: true,
  });
  refreshSlotsWhileOpen(sub, SHARD_REFRESH_MS);
  return sub as unknown as Redis;
}

/**
 * Reloads `cluster`'s slot map every `ms` while it is open, so that a
 * resharding moves its shard subscriptions along within that (ioredis
 * reloads the map on its own only when a command of this client meets a
 * MOVED, and a subscriber sends none). Not ioredis's `slotsRefreshInterval`:
 * its timer is armed again when a reload was under way at `quit()`, and the
 * process then never exits. This timer is unref'd and cleared at 'end'.
 */
export function refreshSlotsWhileOpen(cluster: Cluster, ms: number): void {
  const timer = setInterval(() => {
    if (cluster.status === 'ready') cluster.refreshSlotsCache();
  }, ms);
  timer.unref();
  cluster.once('end', () => clearInterval(timer));
}

/** QUIT, or a plain disconnect when the connection is not up (QUIT would wait in the offline queue). */
export async function quitQuietly(r: Redis | Cluster): Promise<void> {
  if (r.status === 'end') return;
  if (r.status !== 'ready') {
    r.disconnect();
    return;
  }
  try {
    await r.quit();
  } catch {
    const status: string = r.status; // changed while quit() was pending
    if (status !== 'end') r.disconnect();
  }
}
