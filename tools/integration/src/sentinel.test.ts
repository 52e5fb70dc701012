import Redis from 'ioredis';
import { Monitor, type MonitorDataLoss } from '@taskq/monitor';
import { NotReplicatedError, Queue, queueKeys, redactUrl } from '@taskq/queue';
import { RawMonitor, respCommand, startRedisSentinel, type FailoverResult, type RedisSentinelGroup } from '@taskq/redis-harness';
import { WorkerPool, type HandlerMap } from '@taskq/worker-pool';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { waitUntil, withTimeout } from './test-support/wait';

// taskq on a master found through Redis Sentinel (issue 17): a `redis+sentinel://` URL for the
// library objects and the apps, across a SENTINEL FAILOVER (the old master alive, made a replica)
// and a crash of the master (SIGKILL, the replica promoted). Each test starts its own group
// (master, replica, 3 sentinels on loopback): this file runs in `npm test` only.

let group: RedisSentinelGroup | undefined;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  await killAllApps();
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // closing what a test left: a connection already gone is fine
    }
  }
  await group?.stop();
  group = undefined;
});

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One command a data server ran (MONITOR): when the test saw it, on which port. */
interface SeenCommand {
  readonly at: number;
  readonly port: number;
  readonly args: readonly string[];
}

/**
 * MONITOR on every data server of the group: keeps the top-level commands (not a script's own
 * calls) that name a task id matching `ids`. (MONITOR shows no admin command: the sentinels'
 * SLAVEOF is not among them; watchRoles sees the promotion.)
 */
async function watchServers(g: RedisSentinelGroup, ids: RegExp): Promise<SeenCommand[]> {
  const seen: SeenCommand[] = [];
  for (const server of g.servers) {
    const monitor = await RawMonitor.start(server.url, (args, lua) => {
      if (!lua && args.some((a) => ids.test(a))) seen.push({ at: Date.now(), port: server.port, args });
    });
    cleanups.push(() => monitor.stop());
  }
  return seen;
}

/** A role a data server was seen in: `master`, or `slave` of `of`. */
interface RoleChange {
  readonly at: number;
  readonly port: number;
  readonly role: string;
  readonly of?: string;
}

/** Polls INFO replication of every data server (every 10 ms) and keeps each change of role, with when it was first seen. */
function watchRoles(g: RedisSentinelGroup): RoleChange[] {
  const changes: RoleChange[] = [];
  let on = true;
  cleanups.push(() => (on = false));
  const last = new Map<number, string>();
  void (async () => {
    while (on) {
      for (const server of g.servers) {
        try {
          const r = await replication(server.port);
          const role = r.get('role') ?? '?';
          const of = role === 'slave' ? r.get('master_port') : undefined;
          const key = `${role}:${of ?? ''}`;
          if (last.get(server.port) !== key) {
            last.set(server.port, key);
            changes.push({ at: Date.now(), port: server.port, role, ...(of !== undefined ? { of } : {}) });
          }
        } catch {
          // a killed server: no answer until it is back
        }
      }
      await pause(10);
    }
  })();
  return changes;
}

/** When the first sentinel published `+switch-master` (what the clients' failoverDetector acts on). */
async function watchSwitchMaster(g: RedisSentinelGroup): Promise<{ at?: number }> {
  const seen: { at?: number } = {};
  for (const sentinel of g.sentinels) {
    const sub = new Redis({ host: '127.0.0.1', port: sentinel.port, lazyConnect: true, maxRetriesPerRequest: null });
    sub.on('error', () => undefined);
    cleanups.push(() => sub.disconnect());
    await sub.connect();
    sub.on('message', () => (seen.at ??= Date.now()));
    await sub.subscribe('+switch-master');
  }
  return seen;
}

/** The enqueue script calls of task `id` (EVALSHA/EVAL … <events> <wake> 't' <id> <tail> <due>) that MONITOR saw. */
function enqueuesOf(seen: readonly SeenCommand[], id: string, wakeKey: string): SeenCommand[] {
  return seen.filter((c) => {
    const w = c.args.indexOf(wakeKey);
    return /^eval(sha)?$/i.test(c.args[0] ?? '') && w >= 0 && c.args[w + 1] === 't' && c.args.slice(w + 2).includes(id);
  });
}

/** `field:value` of INFO replication. */
async function replication(port: number): Promise<Map<string, string>> {
  const info = String(await respCommand(port, ['INFO', 'replication']));
  return new Map(info.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)] as [string, string]));
}

/** `fo-68..fo-136` for consecutive numbered ids, else the ids (the first 12). */
function idRanges(ids: readonly string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    const m = /^(.*-)(\d+)$/.exec(ids[i]);
    let j = i;
    while (m && j + 1 < ids.length && ids[j + 1] === `${m[1]}${Number(m[2]) + (j + 1 - i)}`) j++;
    parts.push(j > i ? `${ids[i]}..${ids[j]}` : ids[i]);
    i = j + 1;
  }
  return parts.slice(0, 12).join(', ') + (parts.length > 12 ? ', …' : '');
}

interface Enqueue {
  readonly id: string;
  readonly sentAt: number;
  resolvedAt?: number;
  error?: Error;
}

/** A producer loop: enqueues `<prefix>-<i>` tasks on `q` (a pause of 10 ms after each) until `go()` is false, at least `min`. */
function produce(q: Queue, prefix: string, min: number, go: () => boolean): { enqueues: Enqueue[]; done: Promise<void> } {
  const enqueues: Enqueue[] = [];
  const done = (async () => {
    for (let i = 0; i < min || go(); i++) {
      const e: Enqueue = { id: `${prefix}-${i}`, sentAt: Date.now() };
      enqueues.push(e);
      try {
        await q.enqueue({ id: e.id, type: 'work', payload: i });
        e.resolvedAt = Date.now();
      } catch (err) {
        e.error = err instanceof Error ? err : new Error(String(err));
      }
      await pause(10); // the producer's pace: some 80 tasks a second
    }
  })();
  return { enqueues, done };
}

/**
 * The library across a change of master: two Queues (one plain, one with waitForReplicas: 1),
 * two WorkerPools and a Monitor, each with its own connection from the Sentinel URL; the two
 * producers enqueue tasks with given ids while `change` runs.
 */
async function libraryAcross(change: 'failover' | 'killMaster', prefix: string): Promise<void> {
  const g = (group = await startRedisSentinel());
  const queue = `sentinel-${change}`;
  const keys = queueKeys(queue);
  const seen = await watchServers(g, new RegExp(`^${prefix}w?-(\\d+|after)$`));
  const roles = watchRoles(g);
  const switchMaster = await watchSwitchMaster(g);

  const runs = new Map<string, number>();
  const handlers: HandlerMap = {
    work: async (task) => {
      runs.set(task.id, (runs.get(task.id) ?? 0) + 1);
      await pause(5 + (Number(task.payload) % 16)); // 5-20 ms
      return task.payload;
    },
  };
  const loggers: CaptureLogger[] = [];
  const logger = (): CaptureLogger => {
    const l = new CaptureLogger();
    loggers.push(l);
    return l;
  };
  for (const name of ['a', 'b']) {
    const pool = new WorkerPool({ queue, connection: g.url, concurrency: 3, graceMs: 0, consumerId: `${prefix}-pool-${name}`, logger: logger(), handlers });
    await withTimeout(pool.start(), 15_000, `pool ${name} to start`);
    cleanups.push(() => pool.stop(0));
  }
  const monitor = new Monitor({ queue, connection: g.url, log: false, logger: logger() });
  await withTimeout(monitor.start(), 15_000, 'the monitor to start');
  cleanups.push(() => monitor.stop());
  /** Done events as the Monitor applied them (it follows no id until the end: these came on its subscription). */
  const liveDone = new Set<string>();
  monitor.onStatus('*', ['Done'], (record) => liveDone.add(record.id));
  const losses: MonitorDataLoss[] = [];
  monitor.onDataLost((loss) => losses.push(loss));
  const q = new Queue({ queue, connection: g.url, logger: logger() });
  cleanups.push(() => q.close());
  const waiting = new Queue({ queue, connection: g.url, logger: logger(), waitForReplicas: { replicas: 1, timeoutMs: 300 } });
  cleanups.push(() => waiting.close());

  // the producers: at least 300 tasks, and on until the change of master is over
  let changing = true;
  const plain = produce(q, prefix, 300, () => changing);
  const replicated = produce(waiting, `${prefix}w`, 0, () => changing);
  await waitUntil(() => liveDone.size >= 50, { timeoutMs: 20_000, what: `50 tasks Done before the ${change}` });
  const masterBefore = await g.masterPort();
  const t0 = Date.now();
  let result: FailoverResult;
  try {
    result = await g[change]();
  } finally {
    changing = false;
    await Promise.all([plain.done, replicated.done]);
  }
  // a crashed master is started again (empty: no persistence); the sentinels make it a replica
  const restarted = change === 'killMaster' ? g.serverOn(result.from).restart() : Promise.resolve();
  restarted.catch(() => undefined); // awaited below; handled meanwhile
  expect(result.from).toBe(masterBefore);
  expect(await g.masterPort()).toBe(result.to);
  expect((await replication(result.to)).get('role')).toBe('master');

  // a task enqueued now is run and its Done reaches the Monitor on its subscription (nothing
  // follows this id, so no re-read can deliver it): the pools and the Monitor are on the new master
  const after = `${prefix}-after`;
  await q.enqueue({ id: after, type: 'work', payload: 0 });
  await waitUntil(() => liveDone.has(after), { timeoutMs: 20_000, what: `the live Done event of ${after} from the new master` });
  const liveEvents = liveDone.size;

  const all = [...plain.enqueues, ...replicated.enqueues];
  const resolved = [...all.filter((e) => e.resolvedAt !== undefined).map((e) => e.id), after];
  const rejected = all.filter((e) => e.error !== undefined);
  const stored = await q.statuses(all.map((e) => e.id).concat(after));
  const lost = resolved.filter((id) => stored.get(id) === undefined);
  const present = [...stored].filter(([, r]) => r !== undefined).map(([id]) => id);
  // the design's promise: every task Redis has reaches a final status (here Done: no handler fails)
  const finals = await monitor.waitFor(present, undefined, { timeoutMs: 30_000 });
  expect([...finals.values()].filter((r) => r.status !== 'Done').map((r) => `${r.id}: ${r.status}`)).toEqual([]);
  expect(present.filter((id) => !runs.has(id))).toEqual([]);
  const twice = [...runs].filter(([, n]) => n > 1).map(([id]) => id);

  // the old master: a replica of the new one now (a crashed one once it is back: the sentinels turn it)
  let rejoinMs = 0;
  if (change === 'killMaster') {
    await restarted;
    rejoinMs = await g.waitForReplicaOf(result.from, result.to);
  }
  const info = await replication(result.from);
  const oldMaster = [info.get('role'), info.get('master_port'), info.get('master_link_status')];
  expect(oldMaster).toEqual(['slave', String(result.to), 'up']);

  // when what happened, ms after the SENTINEL FAILOVER / SIGKILL
  const rel = (t: number | undefined): string => (t === undefined ? '?' : `+${t - t0}`);
  const promotedAt = roles.find((r) => r.port === result.to && r.role === 'master' && r.at >= t0)?.at;
  const demotedAt = roles.find((r) => r.port === result.from && r.role === 'slave' && r.of === String(result.to) && r.at >= t0)?.at;
  const lostRuns = lost.flatMap((id) => enqueuesOf(seen, id, keys.wake));
  const lostPorts = [...new Set(lostRuns.map((c) => c.port))];
  const span = (ts: number[]): string => (ts.length === 0 ? '?' : `${rel(Math.min(...ts))}..${rel(Math.max(...ts))} ms`);
  const plainLost = lost.filter((id) => id.startsWith(`${prefix}-`));
  const waitLost = lost.filter((id) => id.startsWith(`${prefix}w-`));
  const notReplicated = rejected.filter((e) => e.error instanceof NotReplicatedError);

  const label = change === 'failover' ? 'sentinel failover' : 'sentinel killed master';
  const lines = [
    `${label}: ${all.length + 1} tasks, ${liveEvents} live Done events, ${twice.length} run twice, ${lost.length} lost, new master after ${result.ms} ms` +
      ` (plain Queue: ${plain.enqueues.length + 1} tasks, ${plainLost.length} lost; Queue with waitForReplicas 1: ${replicated.enqueues.length} tasks, ${waitLost.length} lost,` +
      ` ${notReplicated.length} rejected NotReplicatedError of which ${notReplicated.filter((e) => stored.get(e.id) === undefined).length} not in Redis;` +
      ` :${result.from} -> :${result.to}, promoted ${rel(promotedAt)} ms, +switch-master ${rel(switchMaster.at)} ms,` +
      `${change === 'failover' ? ` old master made a replica ${rel(demotedAt)} ms` : ` old master restarted and made a replica in ${rejoinMs} ms`})`,
  ];
  if (lost.length > 0) {
    lines.push(
      `  lost: ${idRanges(lost)} — the enqueue script (EVALSHA enqueue) ran on ${lostPorts.map((p) => `:${p}`).join(', ')} only, at ${span(lostRuns.map((c) => c.at))}: ` +
        `the old master took them after the replica was promoted and before the clients moved; it was then made a replica of the new master, which never had them`,
    );
  }
  if (twice.length > 0) lines.push(`  run twice: ${idRanges(twice)}`);
  const otherRejects = rejected.filter((e) => !(e.error instanceof NotReplicatedError));
  if (otherRejects.length > 0) lines.push(`  rejected enqueues: ${otherRejects.map((e) => `${e.id}: ${e.error?.message}`).join('; ')}`);
  if (losses.length > 0) lines.push(`  the Monitor reported: ${losses.map((l) => `${l.loss.reason} (${l.taskIds.length} followed task(s))`).join('; ')}`);
  const errors = loggers.flatMap((l) => l.lines.filter((x) => x.level === 'error').map((x) => x.msg.replace(/\d+/g, 'N')));
  if (errors.length > 0) lines.push(`  errors logged: ${[...new Set(errors)].slice(0, 4).join(' | ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  // Whatever was lost is explained by the switch: an enqueue that the old master alone ran
  // (failover: after the SENTINEL FAILOVER and before the old master was made a replica).
  for (const id of lost) {
    const ran = enqueuesOf(seen, id, keys.wake);
    expect({ id, ports: [...new Set(ran.map((c) => c.port))] }).toEqual({ id, ports: [result.from] });
    // (after a crash: written before the SIGKILL and not yet on the replica)
    if (change === 'failover') expect(ran.every((c) => c.at >= t0 && demotedAt !== undefined && c.at <= demotedAt)).toBe(true);
  }
  // An enqueue that waited for the replica is never lost: either the replica (the new master) has it, or the enqueue rejected.
  expect(waitLost).toEqual([]);
  // Enqueues reject only for want of a replica's confirmation (never a connection error the client could not ride out).
  expect(otherRejects.map((e) => `${e.id}: ${e.error?.message}`)).toEqual([]);
}

describe('taskq through Redis Sentinel (redis+sentinel:// URLs)', () => {
  it('library: a Queue, two WorkerPools and a Monitor across SENTINEL FAILOVER (the old master made a replica): every task Redis has is Done, the Monitor follows the new master', async () => {
    await libraryAcross('failover', 'fo');
  }, 90_000);

  it('library: the same across a crash of the master (SIGKILL, the replica promoted)', async () => {
    await libraryAcross('killMaster', 'crash');
  }, 90_000);

  it('apps: 2 worker processes and the producer with --redis redis+sentinel://user:password@…: 20/20 Done across a killed master, the workers still running, no password in their output', async () => {
    const g = (group = await startRedisSentinel());
    const password = 'Sentinel-S3cret-pw';
    // a user of their own on both data servers (ACL users are not replicated); the default user stays open for the harness
    for (const s of g.servers) await respCommand(s.port, ['ACL', 'SETUSER', 'tq', 'on', `>${password}`, '~*', '&*', '+@all']);
    const url = g.url.replace('redis+sentinel://', `redis+sentinel://tq:${password}@`);
    const shown = redactUrl(url);
    expect(shown).toBe(g.url.replace('redis+sentinel://', 'redis+sentinel://***@'));
    const queue = 'sentinel-apps';
    const keys = queueKeys(queue);
    const common = ['--redis', url, '--queue', queue];
    const workers = [AppProcess.start('worker', ['2', ...common]), AppProcess.start('worker', ['2', ...common])];
    for (const w of workers) await w.waitForLine(line.poolReady, 'the pool-ready line', 20_000);

    const producer = AppProcess.start('producer', ['20', '--min-ms', '200', '--max-ms', '800', '--json', '--id-prefix', 'app-', ...common]);
    await producer.waitForLine(line.msgStarts('enqueued 20 task(s)'), 'the producer to enqueue its tasks', 20_000);
    const crash = await g.killMaster();
    // the janitors take their lock on the new master (a pass after the crash)
    const onNew = await RawMonitor.start(`redis://127.0.0.1:${crash.to}`);
    cleanups.push(() => onNew.stop());

    const exit = await producer.waitForExit(60_000);
    expect({ code: exit.code, stderr: producer.stderr }).toEqual({ code: 0, stderr: '' });
    const summary = JSON.parse(producer.stdoutLines.at(-1) ?? 'null') as { total: number; Done?: number; wallMs: number };
    expect(summary).toMatchObject({ queue, total: 20, Done: 20 });
    await waitUntil(() => onNew.commands.filter((c) => c.args.includes(keys.janitorLock)).length >= 4, {
      timeoutMs: 15_000,
      what: 'janitor passes on the new master',
    });
    // the workers live on: a lost janitor lock or heartbeat is logged, never a crash
    expect(workers.map((w) => w.exitInfo)).toEqual([undefined, undefined]);
    const warned = workers.flatMap((w) => w.lines.filter((l) => l.level >= 40).map((l) => l.msg));
    const lockLost = warned.filter((m) => m.startsWith('janitor: lost its lock')).length;
    for (const w of workers) w.signal('SIGTERM');
    const exits = await Promise.all(workers.map((w) => w.waitForExit(30_000)));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    for (const w of workers) expect(w.stderr).toBe('');

    // the address they print is the redacted Sentinel URL; the password is nowhere in their output
    for (const app of [...workers, producer]) {
      expect(app.lines.find((l) => l.msg.startsWith('connected to'))?.msg).toBe(`connected to ${shown}`);
      expect(app.stdoutLines.join('\n') + app.stderr).not.toContain(password);
    }
    process.stdout.write(
      `sentinel apps: ${summary.Done}/${summary.total} Done in ${summary.wallMs} ms across a killed master (new master after ${crash.ms} ms; :${crash.from} -> :${crash.to}); ` +
        `2 workers still running, exit 0 on SIGTERM; ${lockLost} janitor lock(s) lost; ${warned.length} warn/error lines${warned.length > 0 ? `: ${[...new Set(warned)].slice(0, 4).join(' | ')}` : ''}\n`,
    );
  }, 90_000);
});
