import { randomBytes } from 'node:crypto';
import { freePort } from './free-port';
import { startRedisServer, type RedisServer } from './redis-server';
import { respCommand } from './resp';

/** Options of `startRedisSentinel`. */
export interface RedisSentinelOptions {
  /** The master group's name (`sentinel monitor <name> …`). Default `mymaster`. */
  readonly name?: string;
  /** Sentinels. Default 3. */
  readonly sentinels?: number;
  /** Sentinels that must agree the master is down before a failover. Default 2. */
  readonly quorum?: number;
  /**
   * `down-after-milliseconds`: how long the master may not answer before a sentinel thinks it down. Default 3000:
   * with 1000, a loaded CI host (npm test's parallel jest runs on 2 cores) saw failovers nobody asked for.
   */
  readonly downAfterMs?: number;
  /** `failover-timeout`, ms. Default 3000. */
  readonly failoverTimeoutMs?: number;
  /** How long to wait for the group to be ready (the replica in sync, every sentinel knowing the others), ms. Default 20000. */
  readonly readyTimeoutMs?: number;
}

/** What a failover did: the master's port before and after, and how long until the new one took writes, ms. */
export interface FailoverResult {
  readonly from: number;
  readonly to: number;
  readonly ms: number;
}

/** A master, a replica and sentinels watching them, child processes on 127.0.0.1 owned by this process. */
export interface RedisSentinelGroup {
  /** The master group's name. */
  readonly name: string;
  /** `redis+sentinel://127.0.0.1:<s1>,127.0.0.1:<s2>,…/<name>`: every sentinel. */
  readonly url: string;
  /** `{ host, port }` of every sentinel: ioredis's `sentinels` option. */
  readonly sentinelAddresses: readonly { host: string; port: number }[];
  /** The data servers: [the first master, its replica]. Which is master changes at a failover; see masterPort(). */
  readonly servers: readonly RedisServer[];
  readonly sentinels: readonly RedisServer[];
  /** The port of the master as the first sentinel that answers names it. */
  masterPort(): Promise<number>;
  /** The data server listening on `port`. */
  serverOn(port: number): RedisServer;
  /**
   * `SENTINEL FAILOVER <name>` with the master alive: resolves once every
   * sentinel names the replica as master, it answers `role:master`, and the
   * old master has become its replica, in sync (some 8-10 s later: until
   * then the old master still takes writes, and loses them when it is made a
   * replica). With `{ untilDemoted: false }` it resolves as soon as the new
   * master is in place; `waitForReplicaOf(from, to)` then waits for the rest.
   */
  failover(options?: { readonly untilDemoted?: boolean }): Promise<FailoverResult>;
  /** Resolves once the server on `port` is a replica of the one on `masterPort`, in sync; the ms it waited. */
  waitForReplicaOf(port: number, masterPort: number): Promise<number>;
  /**
   * SIGKILL the master (a crash): the sentinels see it down after
   * downAfterMs, agree, and promote the replica. Resolves once every sentinel
   * names the new master and it answers `role:master`. The killed server stays
   * down: `serverOn(from).restart()` brings it back (the sentinels make it a replica).
   */
  killMaster(): Promise<FailoverResult>;
  /** Stops every sentinel and server and removes their directories. */
  stop(): Promise<void>;
}

const POLL_MS = 25;

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`redis sentinel harness: ${what} within ${timeoutMs} ms did not happen${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** `field:value` lines of an INFO reply. */
function infoFields(info: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of String(info).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

/** What a sentinel says of the group: `{ status, port, replicas, sentinels }` from INFO sentinel. */
async function sentinelView(sentinelPort: number, name: string): Promise<{ status: string; port: number; replicas: number; sentinels: number } | undefined> {
  const fields = infoFields(await respCommand(sentinelPort, ['INFO', 'sentinel'], 1000));
  for (const [key, value] of fields) {
    if (!/^master\d+$/.test(key)) continue;
    const kv = new Map(value.split(',').map((pair) => pair.split('=') as [string, string]));
    if (kv.get('name') !== name) continue;
    return {
      status: kv.get('status') ?? '',
      port: Number(/:(\d+)$/.exec(kv.get('address') ?? '')?.[1]),
      replicas: Number(kv.get('slaves')),
      sentinels: Number(kv.get('sentinels')),
    };
  }
  return undefined;
}

/** INFO replication of the server on `port`. */
async function replication(port: number): Promise<Map<string, string>> {
  return infoFields(await respCommand(port, ['INFO', 'replication'], 1000));
}

/**
 * Starts a master, a replica of it, and `sentinels` redis-servers in sentinel
 * mode (`redis-server <conf> --sentinel`, no redis-sentinel package needed)
 * watching them with the given quorum, all on 127.0.0.1 ports picked free.
 * Resolves once the replica is in sync and every sentinel knows the replica
 * and every other sentinel (so that a failover can be agreed on).
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelGroup> {
  const name = options.name ?? 'mymaster';
  const count = options.sentinels ?? 3;
  const quorum = options.quorum ?? 2;
  const downAfterMs = options.downAfterMs ?? 3000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 3000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const started: RedisServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.splice(0).reverse().map((s) => s.stop().catch(() => undefined)));
  };
  try {
    // an (empty) config file each, so that the sentinels' CONFIG REWRITE of a reconfigured server works
    // no 5 s wait before a full sync (Redis's repl-diskless-sync-delay), for the replica and after a failover
    const serverArgs = ['--repl-diskless-sync-delay', '0'];
    const master = await startRedisServer({ configText: '', args: serverArgs });
    started.push(master);
    const replica = await startRedisServer({ configText: '', args: [...serverArgs, '--replicaof', '127.0.0.1', String(master.port)] });
    started.push(replica);
    await waitFor('the replica in sync with the master', readyTimeoutMs, async () => ((await replication(replica.port)).get('master_link_status') === 'up' ? true : undefined));
    // Each sentinel is told the replica and the other sentinels (ids and ports chosen here): found
    // by themselves, through hello messages every 2 s, that takes some 7 s.
    const ids = Array.from({ length: count }, () => randomBytes(20).toString('hex'));
    const ports: number[] = [];
    while (ports.length < count) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < count; i++) {
      const conf = [
        `sentinel myid ${ids[i]}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`,
        `sentinel known-replica ${name} 127.0.0.1 ${replica.port}`,
        ...ports.flatMap((port, j) => (j === i ? [] : [`sentinel known-sentinel ${name} 127.0.0.1 ${port} ${ids[j]}`])),
        '',
      ].join('\n');
      const sentinel = await startRedisServer({ configText: conf, port: ports[i], args: ['--sentinel'] });
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    const servers = [master, replica];
    const ready = async (): Promise<void> => {
      for (const s of sentinels) {
        await waitFor(`sentinel :${s.port} knowing the replica and ${count - 1} other sentinel(s)`, readyTimeoutMs, async () => {
          const view = await sentinelView(s.port, name);
          return view && view.status === 'ok' && view.replicas >= 1 && view.sentinels >= count ? true : undefined;
        });
      }
    };
    await ready();
    // and the replica online at the master's offset (a sentinel's first look may have made it sync again)
    await waitFor('the replica online at the master offset', readyTimeoutMs, async () => {
      const r = await replication(master.port);
      const slave = r.get('slave0') ?? '';
      return /state=online/.test(slave) && slave.includes(`offset=${r.get('master_repl_offset')}`) ? true : undefined;
    });

    const masterPort = async (): Promise<number> => {
      let lastError: unknown;
      for (const s of sentinels) {
        try {
          const view = await sentinelView(s.port, name);
          if (view && Number.isInteger(view.port)) return view.port;
        } catch (err) {
          lastError = err;
        }
      }
      throw new Error(`no sentinel names a master for ${name}`, { cause: lastError });
    };
    const serverOn = (port: number): RedisServer => {
      const server = servers.find((s) => s.port === port);
      if (!server) throw new Error(`no data server of the group on port ${port}`);
      return server;
    };
    /** Every sentinel names a master other than `from`, and it answers role:master. */
    const promoted = async (from: number, timeoutMs: number): Promise<number> =>
      waitFor(`a new master in place of :${from}`, timeoutMs, async () => {
        const ports = new Set<number>();
        for (const s of sentinels) ports.add((await sentinelView(s.port, name))?.port ?? NaN);
        const [to] = [...ports];
        if (ports.size !== 1 || to === undefined || to === from || !Number.isInteger(to)) return undefined;
        return (await replication(to)).get('role') === 'master' ? to : undefined;
      });
    const failoverBudgetMs = 4 * (downAfterMs + failoverTimeoutMs) + 10_000;
    const waitForReplicaOf = async (port: number, master: number): Promise<number> => {
      const t0 = Date.now();
      await waitFor(`:${port} a replica of :${master} in sync`, failoverBudgetMs + 20_000, async () => {
        const r = await replication(port);
        return r.get('role') === 'slave' && r.get('master_port') === String(master) && r.get('master_link_status') === 'up' ? true : undefined;
      });
      return Date.now() - t0;
    };

    return {
      name,
      url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${name}`,
      sentinelAddresses: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      servers,
      sentinels,
      masterPort,
      serverOn,
      async failover(failoverOptions) {
        const from = await masterPort();
        const t0 = Date.now();
        await respCommand(sentinels[0]?.port ?? 0, ['SENTINEL', 'FAILOVER', name], 2000);
        const to = await promoted(from, failoverBudgetMs);
        const ms = Date.now() - t0;
        // the old master, alive, is made a replica of the new one by the sentinels
        if (failoverOptions?.untilDemoted !== false) await waitForReplicaOf(from, to);
        return { from, to, ms };
      },
      waitForReplicaOf,
      async killMaster() {
        const from = await masterPort();
        const t0 = Date.now();
        await serverOn(from).kill();
        const to = await promoted(from, failoverBudgetMs);
        return { from, to, ms: Date.now() - t0 };
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
