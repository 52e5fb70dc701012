import { connect as netConnect } from 'node:net';
import { Consumer, Queue, queueKeys, scanQueueKeys } from '@taskq/queue';
import { startApi, type Api } from './test-support/api-app';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { isReady, nextMillisecond, positionIn, rec, split, statusOf } from './test-support/event-stream';
import { channelSubscribers, newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { closeAllSse, SseClient, type SseEvent } from './test-support/sse-client';
import { waitUntil } from './test-support/wait';

// GET /events (issue 15): the real API app on the run's Redis (a server or a
// cluster), read over HTTP as the dashboard reads it (fetch with an
// Authorization header). What depends on the pattern subscription and the one
// subscriber connection of a single server is in api-events-server.test.ts.

const clients = new RedisClients();
const stop: (() => Promise<void>)[] = [];

afterEach(async () => {
  await closeAllSse();
  for (const s of stop.splice(0)) await s();
  await killAllApps();
  await clients.close();
});

const ADMIN = 'admin-token-for-the-events-01';
const READ = 'read-token-for-the-events-001';

/** The latest state of each task as a client knows it from status events (later seq wins; a replayed Queued has seq 0). */
class ClientView {
  readonly tasks = new Map<string, { status: string; seq: number }>();

  apply(events: readonly SseEvent[]): void {
    for (const e of events) {
      if (e.event !== 'status') continue;
      const r = rec(e);
      const known = this.tasks.get(r.id);
      if (!known || r.seq > known.seq) this.tasks.set(r.id, { status: r.status, seq: r.seq });
    }
  }
}

describe('GET /events', () => {
  it('live: a real worker runs two tasks: Queued, InProgress, Done and progress arrive in order, each status with an id that is the stream position; pause and resume as queue events', async () => {
    const api = await startApi();
    const queue = newQueueName('ev-live');
    const sse = await SseClient.open(api.base, `/events?queue=${queue}`);
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(sse.headers.get('cache-control')).toBe('no-cache, no-transform');
    const ready = await sse.waitFor(isReady, 'the ready event');
    expect(ready.json).toEqual({ queues: [queue], replayed: 0 });
    expect(positionIn(ready.id, queue)).toEqual({ seq: 0, at: expect.any(Number) as number, epoch: '' });
    expect(sse.raw.startsWith('retry: 1000\n\n')).toBe(true);

    await api.call('POST', `/queues/${queue}/tasks`, { body: [{ type: 'sleep', payload: { ms: 1200 }, id: 'slow' }, { type: 'sleep', payload: { ms: 10 }, id: 'quick' }] });
    const worker = AppProcess.start('worker', ['2', '--queue', queue, '--redis', testRedisUrl()]);
    for (const id of ['slow', 'quick']) await sse.waitFor(statusOf(queue, id, 'Done'), `${id} Done`);
    const progress = await sse.waitFor((e) => e.event === 'progress' && e.json?.['queue'] === queue, 'a progress event of slow');
    expect(progress.id).toBeUndefined();
    expect(progress.json).toMatchObject({ queue, event: 'progress', tasks: [{ id: 'slow', pct: expect.any(Number) as number }] });

    const statuses = sse.events.filter((e) => e.event === 'status');
    for (const id of ['slow', 'quick']) expect(statuses.filter((e) => rec(e).id === id).map((e) => rec(e).status)).toEqual(['Queued', 'InProgress', 'Done']);
    const redis = await clients.connect();
    const epoch = await redis.get(queueKeys(queue).epoch);
    for (const e of statuses) {
      // every status event says where the stream is: this record's seq, time and the queue's epoch
      expect(positionIn(e.id, queue)).toEqual({ seq: rec(e).seq, at: rec(e).at, epoch });
      expect(rec(e).replayed).toBeUndefined();
    }
    expect(statuses.map((e) => rec(e).seq)).toEqual([...statuses.map((e) => rec(e).seq)].sort((a, b) => a - b));

    const q = new Queue({ queue, connection: redis });
    await q.pause('deploy');
    await q.resume();
    const paused = await sse.waitFor((e) => e.event === 'queue' && e.json?.['event'] === 'paused', 'the paused event');
    expect(paused.json).toMatchObject({ queue, event: 'paused', reason: 'deploy' });
    const resumed = await sse.waitFor((e) => e.event === 'queue' && e.json?.['event'] === 'resumed', 'the resumed event');
    expect(positionIn(resumed.id, queue)?.seq).toBe(resumed.json?.['seq']);
    worker.signal('SIGTERM');
    await worker.waitForExit(15_000);
  }, 60_000);

  it('resume: a client away while tasks changed gets, on reconnecting with Last-Event-ID, the latest state of every task that changed and nothing else, then live events', async () => {
    const api = await startApi();
    const queue = newQueueName('ev-resume');
    const redis = await clients.connect();
    const q = new Queue({ queue, connection: redis });
    const consumer = new Consumer({ queue, id: 'c1', connection: redis });
    await consumer.register();
    stop.push(() => consumer.unregister().then(() => undefined));

    const first = await SseClient.open(api.base, `/events?queue=${queue}`);
    await first.waitFor(isReady, 'ready');
    await q.enqueueMany(['t1', 't2', 't3', 't4', 't5', 't6'].map((id) => ({ id, type: 'x' })));
    await nextMillisecond(redis);
    const held = (await consumer.fetch(['w1', 'w2', 'w3'])).tasks; // t1, t2, t3
    expect(held.map((t) => t.id)).toEqual(['t1', 't2', 't3']);
    await first.waitFor(statusOf(queue, 't3', 'InProgress'), 't3 InProgress');
    const lastId = first.lastId;
    await first.close();
    await nextMillisecond(redis);

    // while it is away
    const [t1, t2, t3] = held;
    await consumer.ackMany([{ id: t1.id, worker: t1.worker, token: t1.token }]);
    await consumer.fail(t2.id, t2.worker, t2.token, { mode: 'retry', reason: 'boom', delayMs: 60_000 });
    await q.cancel('t4');
    await q.enqueueMany([{ id: 't7', type: 'x' }, { id: 't8', type: 'x' }]);
    await q.pause('away');

    const again = await SseClient.open(api.base, `/events?queue=${queue}`, { lastEventId: lastId });
    const ready = await again.waitFor(isReady, 'ready after the replay');
    const { replay } = split(again);
    expect(replay.map((e) => [e.event, e.json?.['id'] ?? e.json?.['event'], e.json?.['status'], e.json?.['seq'] === 0 ? 0 : 'seq'])).toEqual([
      ['queue', 'paused', undefined, 'seq'],
      ['status', 't7', 'Queued', 0],
      ['status', 't8', 'Queued', 0],
      ['status', 't1', 'Done', 'seq'],
      ['status', 't2', 'Retrying', 'seq'],
      ['status', 't4', 'Cancelled', 'seq'],
    ]);
    for (const e of replay) {
      expect(e.json?.['replayed']).toBe(true);
      expect(e.id).toBe(lastId); // a replayed event keeps the position resumed from
    }
    const recorded = await q.statuses(['t1', 't2', 't4']);
    for (const e of replay.filter((x) => x.event === 'status' && rec(x).seq > 0)) expect(rec(e)).toMatchObject({ ...recorded.get(rec(e).id) });
    expect(ready.json).toEqual({ queues: [queue], replayed: 6 });
    expect(positionIn(ready.id, queue)?.seq).toBe(Number(await redis.get(queueKeys(queue).seq)));
    expect(ready.id).toMatch(/\.p$/); // the position says the queue is paused

    // then live
    await q.resume();
    await nextMillisecond(redis);
    await consumer.ackMany([{ id: t3.id, worker: t3.worker, token: t3.token }]);
    const done = await again.waitFor(statusOf(queue, 't3', 'Done'), 't3 Done, live');
    expect(done.json?.['replayed']).toBeUndefined();
    expect(positionIn(done.id, queue)?.seq).toBe(rec(done).seq);
    await again.waitFor((e) => e.event === 'queue' && e.json?.['event'] === 'resumed' && e.json['replayed'] === undefined, 'the live resumed event');

    // nothing changed since: a reconnect replays nothing
    const last = again.lastId;
    await again.close();
    expect(last).not.toMatch(/\.p$/);
    const third = await SseClient.open(api.base, `/events?queue=${queue}`, { lastEventId: last });
    expect((await third.waitFor(isReady, 'ready')).json).toEqual({ queues: [queue], replayed: 0 });

    // paused as of the position, resumed while away: the replay says it is resumed (its resume event is not stored)
    await q.pause('again');
    const pausedLive = await third.waitFor((e) => e.event === 'queue' && e.json?.['event'] === 'paused', 'paused, live');
    expect(pausedLive.id).toMatch(/\.p$/);
    await third.close();
    await q.resume();
    const fourth = await SseClient.open(api.base, `/events?queue=${queue}`, { lastEventId: pausedLive.id });
    await fourth.waitFor(isReady, 'ready');
    expect(split(fourth).replay.map((e) => e.json)).toEqual([{ queue, event: 'resumed', at: expect.any(Number) as number, seq: 0, replayed: true }]);
    expect(fourth.lastId).not.toMatch(/\.p$/);
  }, 60_000);

  it('nothing skipped: tasks keep changing while a client disconnects and resumes six times; its view ends equal to the recorded state of every task', async () => {
    const api = await startApi();
    const queue = newQueueName('ev-race');
    const redis = await clients.connect();
    const q = new Queue({ queue, connection: redis });
    const consumer = new Consumer({ queue, id: 'c1', connection: redis });
    await consumer.register();
    stop.push(() => consumer.unregister().then(() => undefined));
    const view = new ClientView();
    const ids: string[] = [];

    let sse = await SseClient.open(api.base, `/events?queue=${queue}`);
    await sse.waitFor(isReady, 'ready');
    let driving = true;
    const driver = (async () => {
      let round = 0;
      let held: { id: string; worker: string; token: string }[] = [];
      while (driving || round < 20) {
        const batch = Array.from({ length: 15 }, (_, i) => ({ id: `r${round}-${i}`, type: 'x' }));
        ids.push(...batch.map((t) => t.id));
        await q.enqueueMany(batch);
        // ack what was fetched last round (all but one, which fails or is cancelled), fetch more
        const acks = held.slice(1);
        const odd = held[0];
        if (odd && round % 2 === 0) await consumer.fail(odd.id, odd.worker, odd.token, { mode: 'dead', reason: 'planned' });
        else if (odd) acks.push(odd);
        const result = await consumer.exchange(acks, Array.from({ length: 10 }, (_, i) => `w${i}`));
        held = result.tasks.map((t) => ({ id: t.id, worker: t.worker, token: t.token }));
        if (round % 3 === 0) await q.cancel(`r${round}-14`, { waitMs: 0 });
        round++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let n = 0; n < 6; n++) {
      // some live events, then away, then back with the last id
      const upTo = sse.events.length + 5;
      await sse.waitUntil(() => sse.events.length >= upTo, 'five more events');
      const lastId = sse.lastId;
      await sse.close();
      view.apply(sse.events);
      sse = await reopen(api, queue, lastId);
      await sse.waitFor(isReady, `ready after reconnect ${n + 1}`);
    }
    driving = false;
    await driver;
    const recorded = await q.statuses(ids);
    const differences = (): string[] => {
      const now = new ClientView();
      for (const [id, t] of view.tasks) now.tasks.set(id, t);
      now.apply(sse.events);
      return ids.filter((id) => now.tasks.get(id)?.status !== recorded.get(id)?.status).map((id) => `${id}: client ${now.tasks.get(id)?.status ?? 'none'}, recorded ${recorded.get(id)?.status ?? 'none'}`);
    };
    await waitUntil(() => differences().length === 0, { what: "the client's view to match the recorded statuses", timeoutMs: 15_000, details: () => differences().slice(0, 20).join('\n') });
    expect(ids.length).toBeGreaterThan(100);
  }, 90_000);

  it('a queue whose data was lost since the id (another epoch): a reset event, then the queue replayed from its start', async () => {
    const api = await startApi();
    const queue = newQueueName('ev-reset');
    const redis = await clients.connect();
    const sse = await SseClient.open(api.base, `/events?queue=${queue}`);
    await sse.waitFor(isReady, 'ready');
    await new Queue({ queue, connection: redis }).enqueueMany([{ id: 'old-1', type: 'x' }, { id: 'old-2', type: 'x' }]);
    await sse.waitFor(statusOf(queue, 'old-2', 'Queued'), 'old-2');
    const lastId = sse.lastId;
    await sse.close();
    // the queue's data goes (as with a restart without persistence) and a new generation begins
    const keys = await scanQueueKeys(redis, 'taskq', queue);
    await redis.del(...keys);
    await new Queue({ queue, connection: redis }).enqueue({ type: 'x', id: 'new-1' });

    const again = await SseClient.open(api.base, `/events?queue=${queue}`, { lastEventId: lastId });
    await again.waitFor(isReady, 'ready');
    const { replay } = split(again);
    expect(replay[0]?.event).toBe('reset');
    expect(replay[0]?.json).toMatchObject({ queue, reason: expect.stringContaining('another generation') as string });
    expect(replay.slice(1).map((e) => `${rec(e).id} ${rec(e).status}`)).toEqual(['new-1 Queued']);
    expect(positionIn(again.lastId, queue)?.epoch).toBe(await redis.get(queueKeys(queue).epoch));
  }, 60_000);

  it('auth: 401 without a token when tokens are configured, a read token streams; a Last-Event-ID that is not ours: 400; documented in /openapi.json', async () => {
    const api = await startApi([], { TASKQ_API_ADMIN_TOKENS: ADMIN, TASKQ_API_READ_TOKENS: READ });
    const base = api.base.replace('0.0.0.0', '127.0.0.1');
    const queue = newQueueName('ev-auth');
    const none = await fetch(`${base}/events?queue=${queue}`);
    expect({ status: none.status, auth: none.headers.get('www-authenticate'), body: (await none.json()) }).toEqual({
      status: 401,
      auth: 'Bearer realm="taskq"',
      body: { statusCode: 401, error: 'Unauthorized', message: 'a bearer token is required (Authorization: Bearer <token>)' },
    });
    expect((await fetch(`${base}/events`, { headers: { authorization: `Bearer ${READ}x` } })).status).toBe(401);
    const sse = await SseClient.open(base, `/events?queue=${queue}`, { token: READ });
    expect(sse.status).toBe(200);
    await sse.waitFor(isReady, 'ready');
    const bad = await fetch(`${base}/events`, { headers: { authorization: `Bearer ${READ}`, 'last-event-id': 'emails=12' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^Last-Event-ID is not an id of this stream: queue emails's position "12" is not <seq>\.<at>\.<epoch>\[\.p\]$/);
    expect((await fetch(`${base}/events?queue=bad%20name`, { headers: { authorization: `Bearer ${READ}` } })).status).toBe(400);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-taskq-role': string; parameters: { name: string; in: string }[]; responses: Record<string, { content: Record<string, unknown> }> }>> };
    const events = doc.paths['/events']?.['get'];
    expect(events?.['x-taskq-role']).toBe('read');
    expect(events?.parameters.map((p) => [p.name, p.in])).toEqual([
      ['queue', 'query'],
      ['flows', 'query'],
      ['last-event-id', 'header'],
    ]);
    expect(Object.keys(events?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
  }, 30_000);

  it('a client that does not read is cut off past --events-buffer-limit, and its subscription released', async () => {
    const api = await startApi(['--events-buffer-limit', '65536']);
    const redis = await clients.connect();
    const queue = newQueueName('ev-slow');
    const { hostname, port } = new URL(api.base);
    // a raw connection that sends its request and never reads the reply
    const socket = netConnect(Number(port), hostname);
    stop.push(async () => {
      socket.destroy();
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.pause();
    socket.write(`GET /events?queue=${queue} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
    const channel = queueKeys(queue).events;
    await waitUntil(async () => (await channelSubscribers(redis, channel)) === 1, { what: 'the stream subscribed', timeoutMs: 5000 });
    const q = new Queue({ queue, connection: redis });
    let enqueued = 0;
    const cut = api.proc.waitForLine(line.msgStarts('closing an event stream whose client does not keep up'), 'the slow-client line', 30_000);
    let stopped = false;
    void cut.finally(() => (stopped = true));
    while (!stopped && enqueued < 400_000) {
      await q.enqueueMany(Array.from({ length: 5000 }, (_, i) => ({ id: `s${enqueued + i}`, type: 'x' })));
      enqueued += 5000;
    }
    const warning = await cut;
    expect(warning['limit']).toBe(65536);
    socket.resume(); // read what was sent, to the cut
    await closed;
    await waitUntil(async () => (await channelSubscribers(redis, channel)) === 0, { what: 'the subscription released', timeoutMs: 5000 });
  }, 60_000);
});

async function reopen(api: Api, queue: string, lastEventId: string | undefined): Promise<SseClient> {
  return SseClient.open(api.base, `/events?queue=${queue}`, lastEventId === undefined ? {} : { lastEventId });
}
