import { randomBytes } from 'node:crypto';
import { Queue, queueKeys } from '@taskq/queue';
import { startApi } from './test-support/api-app';
import { killAllApps, line } from './test-support/app-process';
import { isReady, nextMillisecond, positionIn, rec, split, statusOf } from './test-support/event-stream';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { closeAllSse, SseClient } from './test-support/sse-client';
import { waitUntil } from './test-support/wait';

// GET /events and the API's subscriber connection on a single redis-server:
// every queue followed through one pattern subscription (queues created later
// arrive live on the same stream), one connection for every stream (PUBSUB
// NUMSUB/NUMPAT), that connection killed, and the ACL rule refusing the
// pattern. On a cluster the API subscribes each queue's shard channel on its
// node instead, and an every-queue stream ends when a new queue appears
// (cluster-sharded.test.ts), so this file runs on a server only.

const clients = new RedisClients();
const stop: (() => Promise<void>)[] = [];

afterEach(async () => {
  await closeAllSse();
  for (const s of stop.splice(0)) await s();
  await killAllApps();
  await clients.close();
});

function clientNames(list: string): string[] {
  return list
    .split('\n')
    .map((l) => /(?:^| )name=(\S*)/.exec(l)?.[1] ?? '')
    .filter((n) => n !== '');
}

describe('GET /events on a single server', () => {
  it('every queue: follows queues created after it connected; a resume replays a queue it never saw from its start (--prefix keeps other tests’ queues out)', async () => {
    const prefix = `evp${randomBytes(3).toString('hex')}`;
    const api = await startApi(['--prefix', prefix]);
    const redis = await clients.connectServer();
    const queueOf = (name: string) => new Queue({ queue: name, prefix, connection: redis });

    const sse = await SseClient.open(api.base, '/events');
    const ready = await sse.waitFor(isReady, 'ready');
    expect(ready.json).toEqual({ queues: [], replayed: 0 });
    expect(ready.id).toBe('-'); // no queue yet: an id all the same, so that a reconnect resumes

    await queueOf('alpha').enqueue({ type: 'x', id: 'a1' });
    const a1 = await sse.waitFor(statusOf('alpha', 'a1', 'Queued'), 'a1 Queued on a queue created after connecting');
    expect(positionIn(a1.id, 'alpha')).toEqual({ seq: rec(a1).seq, at: rec(a1).at, epoch: await redis.get(queueKeys('alpha', prefix).epoch) });
    const lastId = sse.lastId;
    await sse.close();
    await nextMillisecond(redis);

    await queueOf('beta').enqueue({ type: 'x', id: 'b1' });
    await queueOf('alpha').enqueue({ type: 'x', id: 'a2' });
    const again = await SseClient.open(api.base, '/events', { lastEventId: lastId });
    const back = await again.waitFor(isReady, 'ready');
    expect(back.json?.['queues']).toEqual(['alpha', 'beta']);
    const replayed = split(again).replay.map((e) => `${rec(e).queue}/${rec(e).id} ${rec(e).status} ${rec(e).seq}`);
    // a2, and all of beta (which it never saw); and a1 again: the rule replays every unmoved task
    // enqueued in or after the millisecond of the last event seen, and a1's enqueue is that event
    expect(replayed).toEqual(['alpha/a1 Queued 0', 'alpha/a2 Queued 0', 'beta/b1 Queued 0']);
    expect(positionIn(back.id, 'beta')?.epoch).toBe(await redis.get(queueKeys('beta', prefix).epoch));

    await queueOf('gamma').enqueue({ type: 'x', id: 'g1' });
    await again.waitFor(statusOf('gamma', 'g1', 'Queued'), 'g1 on a third queue, live');
    // an id that names no queue ('-'): every queue from its start
    const fromStart = await SseClient.open(api.base, '/events', { lastEventId: '-' });
    await fromStart.waitFor(isReady, 'ready');
    expect(split(fromStart).replay.map((e) => `${rec(e).queue}/${rec(e).id}`).sort()).toEqual(['alpha/a1', 'alpha/a2', 'beta/b1', 'gamma/g1']);
  }, 60_000);

  it('as a Redis user limited by the README ACL rule: every queue is refused (503 saying why), named queues stream', async () => {
    const redis = await clients.connectServer();
    const user = `ev-acl-${randomBytes(3).toString('hex')}`;
    await redis.call('ACL', 'SETUSER', user, 'on', '>ev-acl-pw', '~taskq:*', '&taskq:*', '+@all', '-@dangerous');
    stop.push(async () => {
      await redis.call('ACL', 'DELUSER', user);
    });
    const url = new URL(testRedisUrl());
    url.username = user;
    url.password = 'ev-acl-pw';
    const api = await startApi(['--redis', url.toString()]);
    const every = await api.call('GET', '/events');
    expect(every.status).toBe(503);
    expect(every.json['message']).toMatch(/^Redis refused the events subscription: NOPERM/);
    const queue = newQueueName('ev-acl');
    const sse = await SseClient.open(api.base, `/events?queue=${queue}`);
    expect((await sse.waitFor(isReady, 'ready')).json).toEqual({ queues: [queue], replayed: 0 });
    await new Queue({ queue, connection: redis }).enqueue({ type: 'x', id: 'a' });
    await sse.waitFor(statusOf(queue, 'a', 'Queued'), 'a Queued');
  }, 30_000);

  it('one subscriber connection for all streams of the API process, released when the last client goes', async () => {
    const api = await startApi();
    const name = `taskq-api-${api.proc.pid}-events`;
    const redis = await clients.connectServer();
    const queue = newQueueName('ev-sub');
    const channel = queueKeys(queue).events;
    const subscribers = async (): Promise<number> => clientNames(String(await redis.client('LIST'))).filter((n) => n === name).length;
    expect(await subscribers()).toBe(0);
    const a = await SseClient.open(api.base, `/events?queue=${queue}`);
    const b = await SseClient.open(api.base, `/events?queue=${queue}`);
    const all = await SseClient.open(api.base, '/events');
    await Promise.all([a, b, all].map((s) => s.waitFor(isReady, 'ready')));
    expect(await subscribers()).toBe(1);
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    // both streams of the queue get its events from that one subscription
    await new Queue({ queue, connection: redis }).enqueue({ type: 'x', id: 'shared' });
    await Promise.all([a, b, all].map((s) => s.waitFor(statusOf(queue, 'shared', 'Queued'), 'shared Queued')));
    await a.close();
    await all.close();
    await waitUntil(async () => Number(await redis.pubsub('NUMPAT')) === 0 || undefined, { what: 'the pattern unsubscribed', timeoutMs: 5000 });
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    await b.close();
    await waitUntil(async () => (await subscribers()) === 0, { what: 'the subscriber connection closed', timeoutMs: 5000 });
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 0]);
  }, 30_000);

  it('the subscriber connection killed: every stream ends, and its client, resuming with its id, misses nothing', async () => {
    const api = await startApi();
    const name = `taskq-api-${api.proc.pid}-events`;
    const redis = await clients.connectServer();
    const queue = newQueueName('ev-kill');
    const q = new Queue({ queue, connection: redis });
    const sse = await SseClient.open(api.base, `/events?queue=${queue}`);
    await sse.waitFor(isReady, 'ready');
    await q.enqueue({ type: 'x', id: 'before' });
    await sse.waitFor(statusOf(queue, 'before', 'Queued'), 'before Queued');
    const entry = String(await redis.client('LIST'))
      .split('\n')
      .find((l) => l.includes(` name=${name} `));
    const clientId = /(?:^| )id=(\d+)/.exec(entry ?? '')?.[1];
    expect(clientId).toBeDefined();
    await redis.client('KILL', 'ID', clientId ?? '');
    await sse.ended; // the server ended the stream
    await api.proc.waitForLine(line.msgStarts('the event subscriber connection to Redis was lost'), 'the lost-connection warning');
    await nextMillisecond(redis);
    await q.enqueue({ type: 'x', id: 'while-down' });
    const again = await SseClient.open(api.base, `/events?queue=${queue}`, { lastEventId: sse.lastId });
    await again.waitFor(isReady, 'ready');
    // `before` again too: its enqueue is the last event the client saw (same millisecond, see the rule)
    expect(split(again).replay.map((e) => `${rec(e).id} ${rec(e).status} ${rec(e).seq}`)).toEqual(['before Queued 0', 'while-down Queued 0']);
    await q.enqueue({ type: 'x', id: 'after' });
    await again.waitFor(statusOf(queue, 'after', 'Queued'), 'after Queued, live on the new subscriber connection');
  }, 30_000);
});
