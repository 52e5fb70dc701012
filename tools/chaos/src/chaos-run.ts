import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Monitor, MonitorTimeoutError } from '@taskq/monitor';
import { connectRedisClient, Queue, queueKeys, type RedisClient } from '@taskq/queue';
import { FINAL_STATUSES, silentLogger, type Logger, type StatusRecord } from '@taskq/recorder';
import type { ChaosOptions } from './args';
import { ACL_RULE, startChaosRedis } from './chaos-redis';
import { checkRun, type CheckReport } from './checks';
import { checkFlows, type FlowReport } from './flow-checks';
import { FlowDriver, readStepTasks } from './flow-driver';
import { makeFlowPlan } from './flow-plan';
import { holdTimesOf } from './hold-time';
import { makePlan, toTaskInput, type PlannedTask } from './plan';
import { createPrng } from './prng';
import { readRedisState } from './redis-state';
import { StatusHistory } from './status-history';
import { findUnstartedFetches } from './unstarted';
import type { RunFacts } from './summary';
import { ExecutionTally } from './worker-log';
import { WorkerFleet } from './worker-fleet';

/** Worker heartbeat and janitor stale limit: a killed worker's tasks come back within about 2 s. */
const HEARTBEAT_MS = 300;
const STALE_AFTER_MS = 1500;
/** A worker killed or stopped this soon after a fetch may not have handled the task, ms. */
const START_GRACE_MS = 1000;
/** How often the control loop looks at the run, ms. */
const TICK_MS = 100;
/** --hand-off: tasks enqueued per second, one at a time (below what 3 workers x 8 run, so that pools wait for work). */
const TRICKLE_PER_SEC = 150;

/**
 * Enqueues the plan one task at a time at TRICKLE_PER_SEC, in plan order (the
 * queues interleaved), each at the default priority; an enqueue that fails (Redis
 * restarting) is tried again (enqueue is idempotent per id) until `signal` aborts.
 */
async function trickleIn(redis: RedisClient, plan: readonly PlannedTask[], signal: AbortSignal): Promise<void> {
  const queues = new Map<string, Queue>();
  const started = Date.now();
  for (let i = 0; i < plan.length && !signal.aborted; i++) {
    const task = plan[i];
    const wait = started + (i * 1000) / TRICKLE_PER_SEC - Date.now();
    if (wait > 0) await sleep(wait);
    let queue = queues.get(task.queue);
    if (queue === undefined) queues.set(task.queue, (queue = new Queue({ queue: task.queue, connection: redis })));
    for (;;) {
      try {
        await queue.enqueue({ ...toTaskInput(task), priority: undefined });
        break;
      } catch (err) {
        if (signal.aborted) throw err;
        await sleep(100);
      }
    }
  }
}
const PROGRESS_EVERY_MS = 5000;
/** Time the workers get to stop after SIGTERM before they are SIGKILLed, ms. */
const STOP_GRACE_MS = 10_000;

export interface ChaosOutcome {
  readonly report: CheckReport;
  readonly facts: RunFacts;
  /** The flow checks; undefined with --flows 0. */
  readonly flows?: FlowReport;
}

/** The built worker app; `nx run @taskq/chaos:chaos` builds it first. */
function workerEntry(): string {
  const entry = join(dirname(require.resolve('worker/package.json')), 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: build the worker first (npx nx run worker:build)`);
  return entry;
}

/** warn/error to stderr, for --verbose. */
function stderrLogger(prefix: string): Logger {
  const write =
    (level: string) =>
    (a: object | string, msg?: string): void => {
      const text = typeof a === 'string' ? a : `${msg ?? ''} ${JSON.stringify(a)}`;
      process.stderr.write(`[${prefix}] ${level} ${text}\n`);
    };
  const noop = (): void => undefined;
  const logger: Logger = { error: write('error'), warn: write('warn'), info: noop, debug: noop, child: () => logger };
  return logger;
}

async function closeClient(redis: RedisClient): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/**
 * One chaos run: redis-server with an fsync-always AOF (or a cluster of 3
 * masters, each with one, the queues on three of them), the planned tasks,
 * worker processes SIGKILLed and replaced every `killEveryMs`, one
 * redis-server restart (on a cluster: one master's), a Monitor recording every status it delivers; then
 * the checks on what Redis and the monitor hold. Whatever happens (a
 * failure, `signal` aborted), every worker and the redis-server are gone
 * when it settles.
 */
export async function runChaos(options: ChaosOptions, signal: AbortSignal, print: (line: string) => void): Promise<ChaosOutcome> {
  const startedAt = Date.now();
  const cleanups: Array<() => Promise<unknown>> = [];
  let fleet: WorkerFleet | undefined;
  const onExit = (): void => fleet?.killAllNow();
  process.on('exit', onExit);
  try {
    const entry = workerEntry();
    const server = await startChaosRedis(options);
    cleanups.push(() => server.stop());
    const QUEUES = server.queues;
    const QUEUE_NAMES = QUEUES.map(([name]) => name);
    print(
      `chaos: ${server.description}; ${options.tasks} tasks, ` +
        `${options.workers} workers x ${options.concurrency}, kill every ${options.killEveryMs} ms, seed ${options.seed}` +
        (options.aclUser ? `; workers as an ACL user (${ACL_RULE.join(' ')})` : '') +
        (options.handOff ? '; workers with --hand-off' : ''),
    );
    const redis = await connectRedisClient(server.url, { connectionName: 'chaos-cmd' });
    cleanups.push(() => closeClient(redis));

    const plan = makePlan({
      tasks: options.tasks,
      seed: options.seed,
      failOnceShare: options.failOnce,
      failAlwaysShare: options.failAlways,
      maxMs: options.maxMs,
      queues: QUEUE_NAMES,
    });
    const planned = new Set(plan.map((t) => t.id));
    const flowPlan = makeFlowPlan({ flows: options.flows, seed: options.seed, queues: QUEUE_NAMES, maxMs: options.maxMs });

    // one Monitor per queue (a Monitor follows one queue's events), one history: the ids are unique across the queues;
    // it records the flows' step tasks too, and counts the planned tasks' finals (the restart's trigger)
    const history = new StatusHistory((id) => planned.has(id));
    const monitors = new Map<string, Monitor>();
    for (const queue of QUEUE_NAMES) {
      const monitor = new Monitor({
        queue,
        connection: redis, // its subscriber connection is a duplicate of this one
        logger: options.verbose ? stderrLogger(`monitor ${queue}`) : silentLogger,
        log: false,
      });
      monitor.onStatus('*', '*', (record) => history.record(record));
      await monitor.start();
      cleanups.push(() => monitor.stop());
      monitors.set(queue, monitor);
    }

    const tally = new ExecutionTally();
    const activeFleet = new WorkerFleet({
      entry,
      args: [
        String(options.concurrency),
        '--redis',
        server.workerUrl,
        '--queues',
        QUEUES.map(([name, weight]) => `${name}:${weight}`).join(','),
        '--heartbeat-ms',
        String(HEARTBEAT_MS),
        '--stale-after-ms',
        String(STALE_AFTER_MS),
        ...(options.handOff ? ['--hand-off'] : []),
      ],
      onEvent: (event) => tally.add(event),
      onUnexpectedExit: (note) => print(`  warning: ${note}`),
      verbose: options.verbose,
      logDir: options.logDir,
    });
    fleet = activeFleet;
    cleanups.push(() => activeFleet.killAll());
    activeFleet.fill(options.workers);

    const idsOf = new Map(QUEUE_NAMES.map((queue) => [queue, plan.filter((t) => t.queue === queue).map((t) => t.id)]));
    const enqueuedAt = Date.now();
    // With --hand-off the tasks trickle in (one enqueue each, default priority), so that idle pools
    // are handed them while workers are killed and Redis restarts; else all at once, priorities 0-9.
    const trickle = options.handOff ? trickleIn(redis, plan, signal) : undefined;
    if (trickle === undefined) {
      for (const queue of QUEUE_NAMES) {
        await new Queue({ queue, connection: redis }).enqueueMany(plan.filter((t) => t.queue === queue).map(toTaskInput));
      }
    } else {
      cleanups.push(() => trickle.catch(() => undefined));
    }
    const deadline = enqueuedAt + options.durationLimitMs;

    // the flows: added one by one while workers are killed and Redis restarts, each followed until it ended
    const flowDriver = new FlowDriver(redis, QUEUE_NAMES[1] ?? QUEUE_NAMES[0], flowPlan, signal);
    cleanups.push(() => flowDriver.close());
    const adding = flowDriver.addAll(enqueuedAt, deadline);
    const flowsEnded = flowDriver.untilAllEnded(adding, deadline);

    // Settles when every task is final, the time limit passes, or the run is aborted.
    let drainedAt: number | undefined;
    let failure: { reason: unknown } | undefined;
    let settled = false;
    const timeoutMs = Math.max(1, deadline - Date.now());
    const waiting = Promise.all([
      ...[...monitors].map(([queue, monitor]) => monitor.waitFor(idsOf.get(queue) ?? [], FINAL_STATUSES, { timeoutMs, signal })),
      flowsEnded,
    ]).then(
      () => {
        drainedAt = Date.now();
      },
      (err: unknown) => {
        if (!(err instanceof MonitorTimeoutError)) failure = { reason: err };
      },
    );
    void waiting.finally(() => {
      settled = true;
    });

    // Control loop: kills, the redis restart, progress. Bounded by the wait's own timeout.
    const victims = createPrng(options.seed ^ 0x5bd1e995);
    const nextKillIn = (): number => Math.round(options.killEveryMs * (0.75 + victims.next() * 0.5));
    const restartWhenFinal = options.restartRedisAt > 0 ? Math.ceil(options.restartRedisAt * options.tasks) : Infinity;
    let redisRestarts = 0;
    let nextKill = Date.now() + nextKillIn();
    let nextProgress = Date.now() + PROGRESS_EVERY_MS;
    while (!settled && Date.now() < deadline + 5000) {
      await Promise.race([waiting, sleep(TICK_MS)]);
      if (settled) break;
      const now = Date.now();
      activeFleet.fill(options.workers);
      if (options.killEveryMs > 0 && now >= nextKill) {
        activeFleet.killRandom(victims);
        nextKill = now + nextKillIn();
      }
      if (redisRestarts === 0 && history.finalCount >= restartWhenFinal) {
        const before = Date.now();
        activeFleet.note('redis restart begins');
        const restarted = await server.restart(options.seed); // on a cluster: the master the seed picks
        activeFleet.note('redis restart done');
        redisRestarts++;
        print(`  ${((Date.now() - enqueuedAt) / 1000).toFixed(1)} s: restarted ${restarted} at ${history.finalCount}/${options.tasks} final (took ${Date.now() - before} ms)`);
      }
      if (now >= nextProgress) {
        nextProgress = now + PROGRESS_EVERY_MS;
        const flowsNow = flowPlan.length > 0 ? `, flows ${flowDriver.endedCount} ended/${flowDriver.addedCount} added/${flowPlan.length}` : '';
        print(`  ${((now - enqueuedAt) / 1000).toFixed(1)} s: ${history.finalCount}/${options.tasks} final${flowsNow}, ${activeFleet.kills} kills, ${tally.starts} starts`);
      }
    }
    await waiting;
    if (failure) throw failure.reason;
    // the adds are over by now (all added, or given up at the deadline: those flows count as not ended)
    await adding.catch((err: unknown) => print(`  warning: flows not all added: ${err instanceof Error ? err.message : String(err)}`));

    await activeFleet.stopAll(STOP_GRACE_MS);
    for (const monitor of monitors.values()) await monitor.stop();
    const recorded = new Map<string, StatusRecord | undefined>();
    const stuck = new Map<string, string>();
    for (const queue of QUEUE_NAMES) {
      const state = await readRedisState(redis, queueKeys(queue), idsOf.get(queue) ?? []);
      for (const [id, record] of state.recorded) recorded.set(id, record);
      for (const [id, where] of state.stuck) stuck.set(id, where);
    }
    let flows: FlowReport | undefined;
    if (flowPlan.length > 0) {
      const steps = await readStepTasks(redis, flowPlan);
      flows = checkFlows({
        flows: flowPlan,
        states: await flowDriver.states(),
        records: steps.records,
        results: steps.results,
        history: history.records(),
        starts: tally.perTaskStarts(),
        doneLines: tally.perTaskDones(),
      });
      if (flowDriver.retriedAdds > 0) print(`  flow adds tried again after an error (Redis restarting): ${flowDriver.retriedAdds}`);
    }
    if (options.handOff) print(`  starts of tasks handed off to their pool (--hand-off): ${tally.handOffStarts} of ${tally.starts}`);
    const report = checkRun({ plan, recorded, stuck, history: history.statuses(), starts: tally.perTaskStarts(), succeeded: tally.succeeded() });
    const facts: RunFacts = {
      kills: activeFleet.kills,
      redisRestarts,
      aclUser: options.aclUser,
      handOff: options.handOff,
      cluster: server.cluster,
      priorities: !options.handOff,
      queues: QUEUES.map(([name, weight]) => ({ name, weight })),
      seed: options.seed,
      wallMs: Date.now() - startedAt,
      drainMs: drainedAt === undefined ? undefined : drainedAt - enqueuedAt,
      durationLimitMs: options.durationLimitMs,
      workersStarted: activeFleet.started,
      workersAtOnce: options.workers,
      unexpectedExits: activeFleet.unexpectedExits,
      interrupted: tally.interrupted,
      holdTimes: holdTimesOf(history.records(), options.maxHoldMs),
      unstarted: findUnstartedFetches(
        history.records(),
        (id, attempt, worker) => tally.handled(id, attempt, worker),
        (pid) => activeFleet.endedAt(pid),
        START_GRACE_MS,
      ),
    };
    return { report, facts, flows };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    process.off('exit', onExit);
  }
}
