import { Cluster } from 'ioredis';
import { silentLogger } from '@taskq/recorder';
import { RedisConnectionError } from './errors/redis-connection-error';
import { InvalidRedisUrlError } from './errors/invalid-redis-url-error';
import type { ConnectOptions } from './connect';

/** What a `redis+cluster://` URL says: the seed nodes, the credentials, TLS. */
export interface ClusterUrl {
  readonly seeds: readonly { host: string; port: number }[];
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;

/** Whether `url` names a Redis Cluster: `redis+cluster://` or `rediss+cluster://` (TLS). */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/** `redis+cluster://***@h1:7000,h2:7000`: the credentials hidden. */
export function redactClusterUrl(url: string): string {
  return url.replace(/^([^:]+:\/\/)[^@/]*@/, '$1***@');
}

/**
 * Parses `redis+cluster://[user:password@]host:port,host:port[,…]` (or
 * `rediss+cluster://` for TLS): every listed node is a seed (ioredis learns
 * the others from them). Throws InvalidRedisUrlError naming the problem and the
 * redacted URL.
 */
export function parseClusterUrl(url: string): ClusterUrl {
  const shown = redactClusterUrl(url);
  const scheme = CLUSTER_SCHEME.exec(url);
  if (!scheme) throw new InvalidRedisUrlError(`invalid Redis Cluster URL ${shown}: expected redis+cluster://host:port,host:port`);
  let rest = url.slice(scheme[0].length);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    try {
      username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth) || undefined;
      password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : undefined;
    } catch {
      throw new InvalidRedisUrlError(`invalid Redis Cluster URL ${shown}: a malformed %-escape in the user or password`);
    }
    // `redis+cluster://secret@host` means a password, as for redis:// URLs in ioredis
    if (password === undefined && username !== undefined) [username, password] = [undefined, username];
  }
  rest = rest.replace(/\/$/, '');
  if (rest === '' || /[/?#]/.test(rest)) {
    throw new InvalidRedisUrlError(`invalid Redis Cluster URL ${shown}: expected ${scheme[1]}+cluster://[user:password@]host:port,host:port (no database: a cluster has only 0, no options)`);
  }
  const seeds = rest.split(',').map((node) => {
    const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(node);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port >= 1 && port <= 65535)) {
      throw new InvalidRedisUrlError(`invalid Redis Cluster URL ${shown}: each node is host:port with a port from 1 to 65535, got ${JSON.stringify(node)}`);
    }
    return { host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
  });
  return { seeds, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}), tls: scheme[1]?.toLowerCase() === 'rediss' };
}

/** Wait before a command whose node went away, or answered CLUSTERDOWN, is tried again, ms. */
const RETRY_DELAY_ON_NODE_DOWN_MS = 300;
/** Redirections (MOVED, ASK, TRYAGAIN, a lost node, CLUSTERDOWN) a command may go through before it fails. */
const MAX_REDIRECTIONS = 32;

/**
 * Connects to the Redis Cluster a `redis+cluster://` URL names and resolves
 * once ioredis has read the slot map and is ready. While connecting, retries
 * until `connectTimeoutMs`, then rejects with a RedisConnectionError naming
 * the (redacted) URL; once connected, it follows the cluster (MOVED, ASK,
 * failovers, nodes that come back) without limit.
 */
export async function connectCluster(url: string, options: ConnectOptions = {}): Promise<Cluster> {
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const logger = options.logger ?? silentLogger;
  const address = redactClusterUrl(url);
  const parsed = parseClusterUrl(url);
  const started = Date.now();
  let everReady = false;
  let lastError: Error | undefined;
  const cluster = new Cluster([...parsed.seeds], {
    lazyConnect: true,
    // A master restarting (with no replica to take over) is unreachable, then answers CLUSTERDOWN
    // for 2 s (Redis's writable delay for a rebooted master) while the others redirect to it:
    // each of those is a redirection, retried after these delays, up to maxRedirections in all.
    // ioredis's defaults (100 ms, 16) give up after about 1.6 s; these wait some 5-10 s.
    retryDelayOnFailover: RETRY_DELAY_ON_NODE_DOWN_MS,
    retryDelayOnClusterDown: RETRY_DELAY_ON_NODE_DOWN_MS,
    maxRedirections: MAX_REDIRECTIONS,
    clusterRetryStrategy: (times: number) => {
      if (!everReady && Date.now() - started >= timeoutMs) return null;
      return Math.min(50 * 2 ** Math.min(times, 6), 2000);
    },
    redisOptions: {
      ...options.redisOptions,
      connectTimeout: Math.min(timeoutMs, 10_000),
      ...(options.connectionName !== undefined ? { connectionName: options.connectionName } : {}),
      ...(parsed.username !== undefined ? { username: parsed.username } : {}),
      ...(parsed.password !== undefined ? { password: parsed.password } : {}),
      ...(parsed.tls ? { tls: {} } : {}),
    },
  });
  cluster.on('error', (err: Error) => {
    lastError = err;
    if (everReady) logger.debug({ err: err.message, address }, `redis cluster ${address}: ${err.message}`);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(), timeoutMs + 50);
    const fail = (): void => {
      clearTimeout(timer);
      cluster.off('ready', onReady);
      cluster.off('end', fail);
      cluster.disconnect();
      const why = lastError ? `: ${lastError.message}` : '';
      reject(new RedisConnectionError(address, `cannot connect to the Redis Cluster at ${address} within ${timeoutMs} ms${why}`, { cause: lastError }));
    };
    const onReady = (): void => {
      clearTimeout(timer);
      cluster.off('end', fail);
      everReady = true;
      resolve();
    };
    cluster.once('ready', onReady);
    cluster.once('end', fail);
    cluster.connect().catch(() => undefined); // failures arrive as 'error'/'end'
  });
  return cluster;
}
