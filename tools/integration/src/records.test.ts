import { Consumer, Queue, queueKeys } from '@taskq/queue';
import { CaptureLogger } from './test-support/capture-logger';
import { newQueueName, RedisClients } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();

afterEach(async () => {
  await clients.close();
});

interface Rec {
  id: string;
  status: string;
  attempt: number;
  at: number;
  seq: number;
  worker?: string;
}

describe('status records built by the scripts on a real redis-server (Lua 5.1, numbers are doubles)', () => {
  it('numbers every record of enqueue, fetch and ack in one unbroken seq run, as canonical JSON, the stored record the same as the published one', async () => {
    const name = newQueueName('records');
    const keys = queueKeys(name);
    const config = { queue: name };
    const redis = await clients.connect();
    const messages: string[] = [];
    await clients.subscribe(keys.events, (message) => messages.push(message));

    // 125 tasks: generated ids (the tails-only enqueue) and given ids; seqs run past 9, 99 and 100 twice over
    const queue = new Queue({ ...config, connection: redis });
    await queue.enqueueMany(Array.from({ length: 120 }, () => ({ type: 't' })));
    await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ id: `given-${i}`, type: 't' })));
    const consumer = new Consumer({ ...config, id: `${name}-c`, connection: redis, logger: new CaptureLogger() });
    await consumer.register();
    // plain worker names, and one batch whose name needs escaping (the escaping path)
    const workers = Array.from({ length: 100 }, (_, i) => `w-${i}`);
    const plainBatch = (await consumer.fetch(workers)).tasks;
    const oddBatch = (await consumer.fetch(Array.from({ length: 25 }, () => 'odd "name"'))).tasks;
    expect(plainBatch.length + oddBatch.length).toBe(125);
    const flags = await consumer.ackMany([...plainBatch, ...oddBatch].map((t) => ({ id: t.id, worker: t.worker, token: t.token })));
    expect(flags.every(Boolean)).toBe(true);

    const total = 125 * 3; // Queued, InProgress, Done
    await waitUntil(async () => messages.flatMap((m) => JSON.parse(m) as unknown[]).length >= total, {
      timeoutMs: 5000,
      intervalMs: 20,
      what: `${total} published records`,
    });
    const published = messages.flatMap((m) => JSON.parse(m) as Rec[]);
    expect(published.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // canonical JSON: no "1e+21", no "4800.0", nothing JSON.stringify would write otherwise
    const raw = messages.flatMap((m) => m.slice(1, -1).split(/,(?=\{"id")/));
    for (const text of raw) expect(text).toBe(JSON.stringify(JSON.parse(text) as Rec));

    // a fetch's token is the seq of its InProgress record and the attempt
    const inProgress = new Map(published.filter((r) => r.status === 'InProgress').map((r) => [r.id, r]));
    for (const t of [...plainBatch, ...oddBatch]) expect(t.token).toBe(`${inProgress.get(t.id)?.seq}:1`);
    // the stored record of each task is its published Done record, byte for byte
    const done = published.filter((r) => r.status === 'Done');
    expect(done).toHaveLength(125);
    const stored = await redis.hmget(keys.status, ...done.map((r) => r.id));
    expect(stored).toEqual(raw.filter((text) => text.includes('"status":"Done"')));
    expect(done.filter((r) => r.worker === 'odd "name"')).toHaveLength(25);
  });
});
