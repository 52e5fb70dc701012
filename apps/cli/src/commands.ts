import {
  decodeProgressEvent,
  decodeQueueEvent,
  discoverQueues,
  duplicateClient,
  FLOW_ENDED,
  globEscape,
  InvalidListQueryError,
  InvalidTaskError,
  isClusterClient,
  onChannelMessage,
  queueOfKey,
  readQueueCounts,
  scanQueueKeys,
  subscribeChannels,
  type FlowSummary,
  type Flows,
  type ListableStatus,
  type Queue,
  type QueueEvent,
  type RedisClient,
  type Task,
  type TaskPage,
  type TaskRow,
} from '@taskq/queue';
import { decodeStatusMessage, type StatusRecord } from '@taskq/recorder';
import { CLI_EXIT, type Command } from './args';
import { CliError } from './cli-error';
import { duration, isoTime, oneLine, preview, progressLine, progressText, queueEventLine, recordLine } from './format';
import { taskDetail } from './inspect';
import { lateQueueLines, readLateQueue, ReplayedTasks } from './late-queue';
import { formatFields, formatTable } from './table';

/** What the commands work with; main.ts (the composition root) makes it. */
export interface Context {
  /** The shared client (closed by main). */
  /** A server's client, or a Redis Cluster's (`redis+cluster://`). */
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly json: boolean;
  /** The Queue of a name (resolved from the container, sharing the client). */
  queue(name: string): Queue;
  /** The flows under the prefix (sharing the client). */
  flows(): Flows;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr (notes for people; never part of --json output). */
  note(text: string): void;
  /** Asks on the terminal and resolves with the answer; undefined when stdin is not a terminal. */
  ask(question: string): Promise<string | undefined>;
  /** Resolves on the first SIGINT or SIGTERM. */
  readonly stopRequested: Promise<string>;
}

type Of<N extends Command['name']> = Extract<Command, { name: N }>;

/** Runs a parsed command; resolves with the exit code (CliError for the failures it names). */
export async function runCommand(ctx: Context, cmd: Command): Promise<number> {
  switch (cmd.name) {
    case 'stats':
      return stats(ctx, cmd);
    case 'queue ls':
      return queueLs(ctx);
    case 'queue pause':
      return pause(ctx, cmd);
    case 'queue resume':
      return resume(ctx, cmd);
    case 'queue purge':
      return purge(ctx, cmd);
    case 'task ls':
      return taskLs(ctx, cmd.queue, cmd.status, cmd.limit, cmd.cursor);
    case 'task show':
      return taskShow(ctx, cmd);
    case 'task cancel':
      return taskCancel(ctx, cmd);
    case 'task retry':
      return taskRetry(ctx, cmd);
    case 'dead ls':
      return taskLs(ctx, cmd.queue, 'Dead', cmd.limit, cmd.cursor);
    case 'dead requeue':
      return deadRequeue(ctx, cmd);
    case 'enqueue':
      return enqueue(ctx, cmd);
    case 'watch':
      return watch(ctx, cmd);
    case 'flow ls':
      return flowLs(ctx, cmd);
    case 'flow show':
      return flowShow(ctx, cmd);
    case 'flow cancel':
      return flowCancel(ctx, cmd);
  }
}

const json = (value: unknown): string => `${JSON.stringify(value)}\n`;

async function queueNames(ctx: Context, given: readonly string[]): Promise<string[]> {
  return given.length > 0 ? [...given] : discoverQueues(ctx.redis, ctx.prefix);
}

async function stats(ctx: Context, cmd: Of<'stats'>): Promise<number> {
  const now = Date.now();
  const rows = [];
  for (const name of await queueNames(ctx, cmd.queues)) {
    const queue = ctx.queue(name);
    const c = await readQueueCounts(ctx.redis, queue.keys, now);
    const paused = c.paused ? await queue.paused() : undefined;
    rows.push({
      queue: name,
      ready: c.ready,
      delayed: c.delayed,
      inProgress: c.inProgress,
      dead: c.dead,
      failed: c.failed,
      finished: c.finished,
      workers: c.workers,
      paused: c.paused,
      ...(paused?.reason ? { pausedReason: paused.reason } : {}),
      oldestReadyAgeMs: Math.round(c.oldestReadyAgeSeconds * 1000),
    });
  }
  if (ctx.json) {
    ctx.out(json({ queues: rows }));
  } else if (rows.length === 0) {
    ctx.out(`no queues (no key matches ${ctx.prefix}:{*}:*)\n`);
  } else {
    const n = (v: number) => String(v);
    ctx.out(
      formatTable(
        [
          { header: 'QUEUE' },
          { header: 'READY', numeric: true },
          { header: 'DELAYED', numeric: true },
          { header: 'IN PROGRESS', numeric: true },
          { header: 'DEAD', numeric: true },
          { header: 'FAILED', numeric: true },
          { header: 'FINISHED', numeric: true },
          { header: 'WORKERS', numeric: true },
          { header: 'PAUSED' },
          { header: 'OLDEST READY' },
        ],
        rows.map((r) => [
          r.queue,
          n(r.ready),
          n(r.delayed),
          n(r.inProgress),
          n(r.dead),
          n(r.failed),
          n(r.finished),
          n(r.workers),
          r.paused ? (r.pausedReason ? `yes: ${oneLine(r.pausedReason)}` : 'yes') : 'no',
          r.ready > 0 ? duration(r.oldestReadyAgeMs) : '-',
        ]),
      ),
    );
  }
  return CLI_EXIT.ok;
}

async function queueLs(ctx: Context): Promise<number> {
  const rows = [];
  for (const name of await discoverQueues(ctx.redis, ctx.prefix)) {
    const queue = ctx.queue(name);
    const [paused, workers] = await Promise.all([queue.paused(), queue.consumers()]);
    rows.push({ queue: name, paused: paused !== undefined, ...(paused ? { pausedAt: paused.at, pausedReason: paused.reason ?? '' } : {}), workers: workers.size });
  }
  if (ctx.json) ctx.out(json({ queues: rows }));
  else if (rows.length === 0) ctx.out(`no queues (no key matches ${ctx.prefix}:{*}:*)\n`);
  else {
    ctx.out(
      formatTable(
        [{ header: 'QUEUE' }, { header: 'WORKERS', numeric: true }, { header: 'PAUSED' }],
        rows.map((r) => [r.queue, String(r.workers), r.pausedAt === undefined ? 'no' : `since ${isoTime(r.pausedAt)}${r.pausedReason ? `: ${oneLine(r.pausedReason)}` : ''}`]),
      ),
    );
  }
  return CLI_EXIT.ok;
}

async function pause(ctx: Context, cmd: Of<'queue pause'>): Promise<number> {
  const queue = ctx.queue(cmd.queue);
  const before = await queue.paused();
  const event = await queue.pause(cmd.reason);
  const already = before !== undefined && before.seq === event.seq;
  if (ctx.json) ctx.out(json({ queue: cmd.queue, paused: true, already, event }));
  else if (already) ctx.out(`queue ${cmd.queue} was paused already, since ${isoTime(event.at)}${event.reason ? ` (${oneLine(event.reason)})` : ''}\n`);
  else ctx.out(`queue ${cmd.queue} paused${event.reason ? ` (${oneLine(event.reason)})` : ''}: workers take no task from it until it is resumed\n`);
  return CLI_EXIT.ok;
}

async function resume(ctx: Context, cmd: Of<'queue resume'>): Promise<number> {
  const event = await ctx.queue(cmd.queue).resume();
  if (ctx.json) ctx.out(json({ queue: cmd.queue, resumed: event !== undefined, ...(event ? { event } : {}) }));
  else ctx.out(event ? `queue ${cmd.queue} resumed\n` : `queue ${cmd.queue} was not paused\n`);
  return CLI_EXIT.ok;
}

/** Keys deleted per UNLINK. */
const UNLINK_CHUNK = 500;

async function purge(ctx: Context, cmd: Of<'queue purge'>): Promise<number> {
  const queue = ctx.queue(cmd.queue);
  const workers = await queue.consumers();
  if (workers.size > 0 && !cmd.force) {
    throw new CliError(
      `queue ${cmd.queue} has ${workers.size} worker(s) registered (${[...workers.keys()].join(', ')}): stop them first, or purge with --force (their running tasks' outcomes are then refused)`,
      CLI_EXIT.failure,
    );
  }
  const keys = await scanQueueKeys(ctx.redis, ctx.prefix, cmd.queue);
  if (keys.length === 0) {
    if (ctx.json) ctx.out(json({ queue: cmd.queue, deleted: 0, keys: [] }));
    else ctx.out(`queue ${cmd.queue} has no keys: nothing to delete\n`);
    return CLI_EXIT.ok;
  }
  if (!cmd.yes) {
    const tasks = await ctx.redis.hlen(queue.keys.tasks);
    const answer = await ctx.ask(`Delete the ${keys.length} keys of queue ${cmd.queue} (${tasks} task(s))? Type the queue name to confirm: `);
    if (answer === undefined) throw new CliError(`refusing to purge queue ${cmd.queue} without --yes: stdin is not a terminal to confirm on`, CLI_EXIT.failure);
    if (answer.trim() !== cmd.queue) throw new CliError(`not confirmed (${JSON.stringify(answer.trim())} is not ${JSON.stringify(cmd.queue)}): nothing deleted`, CLI_EXIT.failure);
  }
  let deleted = 0;
  for (let i = 0; i < keys.length; i += UNLINK_CHUNK) deleted += await ctx.redis.unlink(...keys.slice(i, i + UNLINK_CHUNK));
  if (ctx.json) ctx.out(json({ queue: cmd.queue, deleted, keys }));
  else ctx.out(`queue ${cmd.queue} purged: ${deleted} key(s) deleted\n`);
  return CLI_EXIT.ok;
}

/** A task as --json shows it: its stored body and its status record, flat. */
function taskJson(row: TaskRow): Record<string, unknown> {
  const t = row.task;
  const r = row.record;
  return {
    id: row.id,
    ...(t ? { type: t.type, payload: t.payload, enqueuedAt: t.enqueuedAt, priority: t.priority, maxAttempts: t.maxAttempts } : {}),
    status: r.status,
    attempt: r.attempt,
    at: r.at,
    seq: r.seq,
    ...(r.worker ? { worker: r.worker } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.runAt !== undefined ? { runAt: r.runAt } : {}),
  };
}

/** The INFO cell of a task: its worker while it runs, when it is due, or why it got its status. */
function info(r: StatusRecord | undefined): string {
  if (!r) return '';
  if (r.status === 'InProgress') return r.worker ?? '';
  const parts: string[] = [];
  if (r.runAt !== undefined) parts.push(`due ${isoTime(r.runAt)}`);
  if (r.reason) parts.push(oneLine(r.reason));
  return parts.join(': ');
}

async function taskLs(ctx: Context, name: string, status: ListableStatus, limit: number, cursor: string | undefined): Promise<number> {
  let page: TaskPage;
  try {
    page = await ctx.queue(name).listTasks(status, { limit, ...(cursor !== undefined ? { cursor } : {}) });
  } catch (err) {
    // a cursor of another list, or mangled: a bad argument, nothing listed
    if (err instanceof InvalidListQueryError) throw new CliError(`--${err.message}`, CLI_EXIT.usage); // the message begins with the option's name
    throw err;
  }
  const { tasks, nextCursor } = page;
  if (ctx.json) {
    ctx.out(json({ queue: name, status, tasks: tasks.map(taskJson), more: nextCursor !== undefined, ...(nextCursor !== undefined ? { nextCursor } : {}) }));
    return CLI_EXIT.ok;
  }
  const next = (): void => {
    if (nextCursor !== undefined) ctx.note(`(more: the next page with --cursor ${nextCursor})\n`);
  };
  if (tasks.length === 0) {
    // a page can end empty yet have a next one (it read only tasks of another status)
    if (nextCursor !== undefined) ctx.out(`no ${status} tasks on this page of queue ${name}\n`);
    else ctx.out(`no ${cursor === undefined ? '' : 'more '}${status} tasks in queue ${name}\n`);
    next();
    return CLI_EXIT.ok;
  }
  ctx.out(
    formatTable(
      [{ header: 'ID' }, { header: 'TYPE' }, { header: 'STATUS' }, { header: 'ATTEMPT', numeric: true }, { header: 'SINCE' }, { header: 'PAYLOAD' }, { header: 'INFO' }],
      tasks.map((t) => [
        t.id,
        t.task?.type ?? '?',
        t.record.status,
        `${t.record.attempt}/${t.task?.maxAttempts ?? '?'}`,
        isoTime(t.record.at),
        t.task ? preview(t.task.payload) : '',
        info(t.record),
      ]),
    ),
  );
  next();
  return CLI_EXIT.ok;
}

function notFound(queue: string, id: string): CliError {
  return new CliError(`task ${id} not found in queue ${queue} (never enqueued there, or forgotten by retention)`, CLI_EXIT.notFound);
}

async function taskShow(ctx: Context, cmd: Of<'task show'>): Promise<number> {
  const detail = await taskDetail(ctx.queue(cmd.queue), cmd.id);
  if (detail === undefined) throw notFound(cmd.queue, cmd.id);
  const { task, record, history, progress, result } = detail;
  if (ctx.json) {
    // `result` only when one is stored: a handler may return null
    ctx.out(json({ queue: cmd.queue, id: cmd.id, task: task ?? null, status: record ?? null, history, progress: progress ?? null, ...(result !== undefined ? { result } : {}) }));
    return CLI_EXIT.ok;
  }
  const fields: [string, string][] = [
    ['id', cmd.id],
    ['queue', cmd.queue],
    ['type', task?.type ?? '? (its body is gone)'],
    ['status', record?.status ?? '?'],
    ['attempt', `${record?.attempt ?? '?'} of ${task?.maxAttempts ?? '?'}`],
  ];
  if (record?.worker) fields.push(['worker', record.worker]);
  fields.push(['since', isoTime(record?.at)]);
  if (record?.runAt !== undefined) fields.push(['due', isoTime(record.runAt)]);
  if (record?.reason) fields.push(['reason', oneLine(record.reason)]);
  if (progress) {
    fields.push(['progress', `${progressText(progress)} at ${isoTime(progress.at)}`]);
  }
  if (task) {
    fields.push(['priority', String(task.priority)], ['enqueued', isoTime(task.enqueuedAt)]);
    if (task.timeoutMs !== undefined) fields.push(['timeout', duration(task.timeoutMs)]);
    fields.push(['payload', JSON.stringify(task.payload)]);
  }
  if (result !== undefined) fields.push(['result', JSON.stringify(result)]);
  fields.push(['history', history.length === 0 ? 'no failed attempt' : `${history.length} failed attempt(s)`]);
  let text = formatFields(fields);
  for (const h of history) text += `  attempt ${h.attempt} at ${isoTime(h.at)} on ${h.worker}: ${oneLine(h.error)}\n`;
  ctx.out(text);
  return CLI_EXIT.ok;
}

async function taskCancel(ctx: Context, cmd: Of<'task cancel'>): Promise<number> {
  const result = await ctx.queue(cmd.queue).cancel(cmd.id, { waitMs: cmd.waitMs, reason: 'cancelled with taskq task cancel' });
  if (result.outcome === 'not-found') throw notFound(cmd.queue, cmd.id);
  if (ctx.json) ctx.out(json({ queue: cmd.queue, ...result }));
  if (result.outcome === 'cancelled') {
    if (!ctx.json) ctx.out(`task ${cmd.id} cancelled\n`);
    return CLI_EXIT.ok;
  }
  if (result.outcome === 'final') throw new CliError(`task ${cmd.id} is ${result.status} already: nothing to cancel`, CLI_EXIT.failure);
  throw new CliError(
    `task ${cmd.id} is still ${result.status ?? 'running'} after ${cmd.waitMs} ms: its worker was told to cancel it (its handler's signal fired) and has not stopped it yet`,
    CLI_EXIT.failure,
  );
}

async function taskRetry(ctx: Context, cmd: Of<'task retry'>): Promise<number> {
  const queue = ctx.queue(cmd.queue);
  const record = await queue.status(cmd.id);
  if (record === undefined) throw notFound(cmd.queue, cmd.id);
  if (record.status !== 'Dead' && record.status !== 'Failed') {
    throw new CliError(`task ${cmd.id} is ${record.status}: only Dead and Failed tasks can be retried`, CLI_EXIT.failure);
  }
  const requeued = record.status === 'Dead' ? await queue.requeueDead([cmd.id]) : await queue.requeueFailed([cmd.id]);
  if (requeued.length === 0) throw new CliError(`task ${cmd.id} is no longer ${record.status} (it moved meanwhile): nothing requeued`, CLI_EXIT.failure);
  if (ctx.json) ctx.out(json({ queue: cmd.queue, id: cmd.id, requeued: true, was: record.status }));
  else ctx.out(`task ${cmd.id} requeued (was ${record.status}); attempts start over\n`);
  return CLI_EXIT.ok;
}

async function deadRequeue(ctx: Context, cmd: Of<'dead requeue'>): Promise<number> {
  const queue = ctx.queue(cmd.queue);
  if (cmd.all) {
    const count = await queue.requeueAllDead();
    if (ctx.json) ctx.out(json({ queue: cmd.queue, count }));
    else ctx.out(`requeued ${count} dead task(s) of queue ${cmd.queue}\n`);
    return CLI_EXIT.ok;
  }
  const ids = [...new Set(cmd.ids)];
  const requeued = await queue.requeueDead(ids);
  const done = new Set(requeued);
  const missing = ids.filter((id) => !done.has(id));
  if (ctx.json) ctx.out(json({ queue: cmd.queue, count: requeued.length, ids: requeued, notFound: missing }));
  else if (requeued.length > 0) ctx.out(`requeued ${requeued.length} dead task(s) of queue ${cmd.queue}: ${requeued.join(' ')}\n`);
  if (missing.length > 0) throw new CliError(`not in the dead-letter list of queue ${cmd.queue}: ${missing.join(' ')}`, CLI_EXIT.notFound);
  return CLI_EXIT.ok;
}

async function enqueue(ctx: Context, cmd: Of<'enqueue'>): Promise<number> {
  let task: Task;
  try {
    task = await ctx.queue(cmd.queue).enqueue({
      type: cmd.type,
      payload: cmd.payload,
      ...(cmd.id !== undefined ? { id: cmd.id } : {}),
      ...(cmd.priority !== undefined ? { priority: cmd.priority } : {}),
      ...(cmd.delayMs !== undefined ? { delayMs: cmd.delayMs } : {}),
      ...(cmd.maxAttempts !== undefined ? { maxAttempts: cmd.maxAttempts } : {}),
    });
  } catch (err) {
    // what the arguments' checks do not know (all-digit ids are the generated ones, …): still bad arguments, nothing written
    if (err instanceof InvalidTaskError) throw new CliError(err.message, CLI_EXIT.usage);
    throw err;
  }
  if (ctx.json) ctx.out(json({ queue: cmd.queue, ...task }));
  else ctx.out(`${task.id}\n`);
  return CLI_EXIT.ok;
}

/** One event of a queue's events channel as watch prints it (a line, or a JSON line); undefined for a message it cannot read. */
export function watchLines(queue: string, message: string, asJson: boolean, stale?: (r: StatusRecord) => boolean): string[] | undefined {
  const event: QueueEvent | undefined = decodeQueueEvent(message);
  if (event !== undefined) return [asJson ? JSON.stringify({ queue, ...event }) : queueEventLine(queue, event)];
  const progress = decodeProgressEvent(message);
  if (progress !== undefined) return progress.tasks.map((u) => (asJson ? JSON.stringify({ queue, event: 'progress', ...u }) : progressLine(queue, u)));
  let records: StatusRecord[];
  try {
    records = decodeStatusMessage(message);
  } catch {
    return undefined;
  }
  if (stale) records = records.filter((r) => !stale(r));
  return records.map((r) => (asJson ? JSON.stringify({ queue, ...r }) : recordLine(queue, r)));
}

async function watch(ctx: Context, cmd: Of<'watch'>): Promise<number> {
  const subscriber = duplicateClient(ctx.redis, { connectionName: `taskq-cli-${process.pid}-sub` });
  // queues found late (every queue on a cluster): their live messages wait while their replay is read
  const held = new Map<string, [string, string][]>();
  const replayed = new ReplayedTasks();
  const show = (queue: string, channel: string, message: string): void => {
    const lines = watchLines(queue, message, ctx.json, (r) => replayed.stale(queue, r));
    if (lines === undefined) ctx.note(`(a message on ${channel} that is neither status records nor a queue event: ${preview(message, 120)})\n`);
    else if (lines.length > 0) ctx.out(`${lines.join('\n')}\n`);
  };
  const release = (queue: string): void => {
    for (const [channel, message] of held.get(queue) ?? []) show(queue, channel, message);
    held.delete(queue);
  };
  const print = (channel: string, message: string): void => {
    const queue = queueOfKey(channel, ctx.prefix) ?? channel;
    const wait = held.get(queue);
    if (wait) wait.push([channel, message]);
    else show(queue, channel, message);
  };
  // Redis away: the main connection's log says so (and reconnects); the subscriber's own errors
  // would only repeat it. Once back, ioredis subscribes again: say what was missed.
  let lost = false;
  subscriber.on('error', () => {
    lost = true;
  });
  subscriber.on('ready', () => {
    if (!lost) return;
    lost = false;
    ctx.note('subscribed again after losing the connection: events published meanwhile are not shown (taskq task show / stats have the current state)\n');
  });
  onChannelMessage(subscriber, print);
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => print(channel, message));
  let rediscover: NodeJS.Timeout | undefined;
  try {
    if (cmd.queues.length > 0) {
      const channels = cmd.queues.map((q) => ctx.queue(q).keys.events);
      await subscribeChannels(subscriber, channels);
      ctx.note(`watching ${channels.join(', ')} (Ctrl-C to stop)\n`);
    } else if (isClusterClient(ctx.redis)) {
      // sharded pub/sub has no pattern: every queue found, and those found later (looked for every 2 s)
      const watched = new Set<string>();
      const subscribeNew = async (late: boolean): Promise<string[]> => {
        const fresh = (await discoverQueues(ctx.redis, ctx.prefix)).filter((q) => !watched.has(q));
        if (late) for (const q of fresh) held.set(q, []);
        try {
          await subscribeChannels(subscriber, fresh.map((q) => ctx.queue(q).keys.events));
          for (const q of fresh) watched.add(q);
          // A queue found after watch started has events it did not hear: its state now, then what came meanwhile.
          if (late) {
            for (const q of fresh) {
              const state = await readLateQueue(ctx.redis, ctx.queue(q).keys);
              replayed.add(q, state.records);
              const lines = lateQueueLines(q, state, ctx.json);
              if (lines.length > 0) ctx.out(`${lines.join('\n')}\n`);
            }
          }
        } finally {
          // then what each queue published meanwhile (and, on a failure, the queues' messages are not held for ever)
          for (const q of fresh) release(q);
        }
        return fresh;
      };
      const first = await subscribeNew(false);
      ctx.note(`watching every queue of the cluster (${first.length} now: ${first.join(', ') || 'none'}; new ones are looked for every 2 s) (Ctrl-C to stop)\n`);
      rediscover = setInterval(() => {
        subscribeNew(true).then(
          (fresh) => {
            if (fresh.length > 0) ctx.note(`also watching ${fresh.join(', ')} (new)\n`);
          },
          (err: unknown) => ctx.note(`looking for new queues failed: ${String(err)}\n`),
        );
      }, 2000);
    } else {
      const pattern = `${globEscape(ctx.prefix)}:{*}:events`;
      await subscriber.psubscribe(pattern);
      ctx.note(`watching ${pattern}, every queue (Ctrl-C to stop)\n`);
    }
    await ctx.stopRequested;
  } finally {
    clearInterval(rediscover);
    try {
      await subscriber.quit();
    } catch {
      subscriber.disconnect();
    }
  }
  return CLI_EXIT.ok;
}

/** A flow's progress: `2/3` (steps Done of all). */
const flowProgress = (f: FlowSummary): string => `${f.done}/${f.total}`;

/** A flow as `flow ls --json` shows it: its state without its steps. */
function flowSummary(f: FlowSummary): Omit<FlowSummary, 'seq' | 'at'> {
  const { seq: _seq, at: _at, ...summary } = f;
  return summary;
}

function flowNotFound(id: string): CliError {
  return new CliError(`flow ${id} not found (never added, or forgotten after its retention)`, CLI_EXIT.notFound);
}

async function flowLs(ctx: Context, cmd: Of<'flow ls'>): Promise<number> {
  const flows = ctx.flows();
  // one more than asked: whether a next page exists
  const ids = await flows.list({ limit: cmd.limit + 1, offset: cmd.offset });
  const more = ids.length > cmd.limit;
  // a flow forgotten between the index and its hash is left out
  const states = await flows.summaries(ids.slice(0, cmd.limit));
  const nextOffset = cmd.offset + cmd.limit;
  if (ctx.json) {
    ctx.out(json({ flows: states.map(flowSummary), more, ...(more ? { nextOffset } : {}) }));
    return CLI_EXIT.ok;
  }
  if (states.length === 0) {
    ctx.out(cmd.offset === 0 ? `no flows (none kept under ${ctx.prefix}:flows)\n` : `no more flows (${cmd.offset} skipped)\n`);
  } else {
    ctx.out(
      formatTable(
        [
          { header: 'ID' },
          { header: 'STATUS' },
          { header: 'PROGRESS', numeric: true },
          { header: 'FAILED', numeric: true },
          { header: 'CANCELLED', numeric: true },
          { header: 'CREATED' },
          { header: 'ENDED' },
          { header: 'REASON' },
        ],
        states.map((f) => [f.id, f.status, flowProgress(f), String(f.failed), String(f.cancelled), isoTime(f.createdAt), isoTime(f.endedAt), f.reason ? oneLine(f.reason) : '']),
      ),
    );
  }
  if (more) ctx.note(`(more: the next page with --offset ${nextOffset})\n`);
  return CLI_EXIT.ok;
}

async function flowShow(ctx: Context, cmd: Of<'flow show'>): Promise<number> {
  const f = await ctx.flows().get(cmd.id);
  if (f === undefined) throw flowNotFound(cmd.id);
  if (ctx.json) {
    ctx.out(json(f));
    return CLI_EXIT.ok;
  }
  const fields: [string, string][] = [
    ['id', f.id],
    ['status', f.status],
    ['policy', f.policy],
    ['progress', `${flowProgress(f)} steps done (${f.failed} failed, ${f.cancelled} cancelled)`],
    ['created', isoTime(f.createdAt)],
  ];
  if (f.endedAt !== undefined) fields.push(['ended', isoTime(f.endedAt)]);
  if (f.reason) fields.push(['reason', oneLine(f.reason)]);
  let text = formatFields(fields);
  text += formatTable(
    [{ header: 'STEP' }, { header: 'QUEUE' }, { header: 'TASK' }, { header: 'STATUS' }, { header: 'WAITS FOR' }, { header: 'RESULT/ERROR' }],
    f.steps.map((s) => [
      s.name,
      s.queue,
      s.taskId,
      // a released step: its task's status in its queue
      s.status === 'Released' ? `Released (${s.task?.status ?? 'not enqueued yet'})` : s.status,
      s.dependsOn.length > 0 ? s.dependsOn.join(',') : '-',
      s.error !== undefined ? `error: ${oneLine(s.error)}` : s.status === 'Done' ? (s.result === undefined ? '(no result)' : preview(s.result, 60)) : '',
    ]),
  );
  ctx.out(text);
  return CLI_EXIT.ok;
}

/** How often `flow cancel` looks whether the flow ended while its running steps stop, ms. */
const CANCEL_POLL_MS = 50;

async function flowCancel(ctx: Context, cmd: Of<'flow cancel'>): Promise<number> {
  const flows = ctx.flows();
  const before = await flows.get(cmd.id);
  if (before === undefined) throw flowNotFound(cmd.id);
  let status = FLOW_ENDED.has(before.status) ? before.status : await flows.cancel(cmd.id, { reason: 'cancelled with taskq flow cancel' });
  if (status === undefined) throw flowNotFound(cmd.id); // forgotten meanwhile
  const deadline = Date.now() + cmd.waitMs;
  while (status === 'FlowCancelling' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
    status = (await flows.get(cmd.id))?.status ?? status;
  }
  if (ctx.json) ctx.out(json({ id: cmd.id, was: before.status, status }));
  if (FLOW_ENDED.has(before.status) || (status !== 'FlowCancelling' && status !== 'FlowCancelled')) {
    throw new CliError(`flow ${cmd.id} is ${status} already: nothing to cancel`, CLI_EXIT.failure);
  }
  if (status === 'FlowCancelling') {
    throw new CliError(
      `flow ${cmd.id} is still FlowCancelling after ${cmd.waitMs} ms: the workers of its running steps were told to cancel them (their handlers' signals fired) and have not stopped them yet`,
      CLI_EXIT.failure,
    );
  }
  if (!ctx.json) ctx.out(`flow ${cmd.id} cancelled\n`);
  return CLI_EXIT.ok;
}
