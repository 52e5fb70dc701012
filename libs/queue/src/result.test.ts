import { decodeStatusRecord } from '@taskq/recorder';
import { Consumer } from './consumer';
import { queueKeys } from './keys';
import { SCRIPTS } from './lua-script';
import { Queue } from './queue';
import { decodeResult, DEFAULT_MAX_RESULT_BYTES, encodeResult, ResultError } from './result';
import { scriptKeys } from './script-keys';
import { backendName, closeMocks, mockRedis } from './test-support/mock-redis';

describe('encodeResult (what a pool stores for a handler\'s return value)', () => {
  it('is the JSON text of the value; undefined stores nothing', () => {
    expect(encodeResult(undefined)).toBeUndefined();
    expect(encodeResult(null)).toBe('null');
    expect(encodeResult(0)).toBe('0');
    expect(encodeResult('')).toBe('""');
    expect(encodeResult({ sleptMs: 5, list: [1, 'a', { deep: true }] })).toBe('{"sleptMs":5,"list":[1,"a",{"deep":true}]}');
    expect(encodeResult({ toJSON: () => ({ x: 1 }) })).toBe('{"x":1}');
    expect(decodeResult(encodeResult({ a: [1, null] }))).toEqual({ a: [1, null] });
    expect(decodeResult(null)).toBeUndefined();
    expect(DEFAULT_MAX_RESULT_BYTES).toBe(65536);
  });

  it.each([
    ['a BigInt', () => 10n, /^result is not JSON: Do not know how to serialize a BigInt$/],
    ['a cycle', () => { const a: Record<string, unknown> = {}; a['self'] = a; return a; }, /^result is not JSON: Converting circular structure to JSON/],
    ['a function', () => () => 1, /^result is not JSON: a function has no JSON form$/],
    ['a symbol', () => Symbol('s'), /^result is not JSON: a symbol has no JSON form$/],
    ['a throwing toJSON', () => ({ toJSON: () => { throw new Error('nope'); } }), /^result is not JSON: nope$/],
  ])('refuses %s with a ResultError', (_what, make, message) => {
    const value = make();
    expect(() => encodeResult(value)).toThrow(ResultError);
    expect(() => encodeResult(value)).toThrow(message);
  });

  it('refuses a JSON text longer than maxBytes, counted in UTF-8 bytes', () => {
    expect(encodeResult('x'.repeat(8), 10)).toBe('"xxxxxxxx"'); // 10 bytes: at the limit
    expect(() => encodeResult('x'.repeat(9), 10)).toThrow(new ResultError('result of 11 bytes is larger than maxResultBytes (10)'));
    // 4 characters, 3 bytes each, and the quotes
    expect(() => encodeResult('€€€€', 13)).toThrow(new ResultError('result of 14 bytes is larger than maxResultBytes (13)'));
    expect(encodeResult('€€€€', 14)).toBe('"€€€€"');
    expect(() => encodeResult({ big: 'y'.repeat(DEFAULT_MAX_RESULT_BYTES) })).toThrow(/^result of 65546 bytes is larger than maxResultBytes \(65536\)$/);
  });
});

describe(`results stored with Done (${backendName()})`, () => {
  afterEach(closeMocks);
  const k = queueKeys('res');

  async function held(ids: string[], retention?: { deadMax?: number; maxCount?: number; maxAgeMs?: number }) {
    const { redis } = mockRedis();
    const config = { queue: 'res', connection: redis, ...(retention ? { retention } : {}) };
    const queue = new Queue(config);
    const consumer = new Consumer({ ...config, id: 'c1' });
    await consumer.register();
    await queue.enqueueMany(ids.map((id) => ({ id, type: 't', maxAttempts: 1 })));
    const fetched = await consumer.fetch(ids.map((_, i) => `w${i}`));
    const tasks = new Map(fetched.tasks.map((t) => [t.id, t]));
    return { redis, queue, consumer, tasks };
  }

  it('an ack that carries a result stores it with the Done record; one without stores none; readable by id and in bulk', async () => {
    const { redis, queue, consumer, tasks } = await held(['a', 'b', 'c', 'd']);
    const item = (id: string, result?: string) => ({ id, worker: tasks.get(id)!.worker, token: tasks.get(id)!.token, result });
    const reply = await consumer.exchange([item('a', '{"n":1}'), item('b'), item('c', 'null'), item('d', '"text"')], []);
    expect(reply.acks).toEqual([true, true, true, true]);
    for (const id of ['a', 'b', 'c', 'd']) expect(decodeStatusRecord((await redis.hget(k.status, id))!).status).toBe('Done');
    expect(await redis.hgetall(k.results)).toEqual({ a: '{"n":1}', c: 'null', d: '"text"' });
    expect(await queue.result('a')).toEqual({ n: 1 });
    expect(await queue.result('b')).toBeUndefined();
    expect(await queue.result('c')).toBeNull();
    expect(await queue.result('nope')).toBeUndefined();
    expect([...(await queue.results(['d', 'b', 'a', 'nope'])).entries()]).toEqual([['d', 'text'], ['b', undefined], ['a', { n: 1 }], ['nope', undefined]]);
    expect((await queue.results([])).size).toBe(0);
  });

  it('Consumer.ack takes a result too; a batch without results leaves the results hash absent', async () => {
    const { redis, queue, consumer, tasks } = await held(['a', 'b']);
    const b = tasks.get('b')!;
    expect(await consumer.ackMany([{ id: 'b', worker: b.worker, token: b.token }])).toEqual([true]);
    expect(await redis.exists(k.results)).toBe(0);
    const a = tasks.get('a')!;
    expect(await consumer.ack('a', a.worker, a.token, '[1,2]')).toBe(true);
    expect(await queue.result('a')).toEqual([1, 2]);
  });

  it('a refused ack (stale token, or the second ack of an id in one call) stores nothing of its result', async () => {
    const { redis, queue, consumer, tasks } = await held(['a', 'b']);
    const a = tasks.get('a')!;
    const b = tasks.get('b')!;
    const reply = await consumer.exchange(
      [
        { id: 'a', worker: a.worker, token: '999:1', result: '"stale"' },
        { id: 'b', worker: b.worker, token: b.token, result: '"first"' },
        { id: 'b', worker: b.worker, token: b.token, result: '"second"' },
      ],
      [],
    );
    expect(reply.acks).toEqual([false, true, false]);
    expect(await redis.hgetall(k.results)).toEqual({ b: '"first"' });
    expect(await queue.result('a')).toBeUndefined();
  });

  it('results go with the acks when the same call fetches tasks (worker names after the result pairs)', async () => {
    const { queue, consumer, tasks } = await held(['a']);
    await queue.enqueue({ id: 'next', type: 't' });
    const a = tasks.get('a')!;
    const reply = await consumer.exchange([{ id: 'a', worker: a.worker, token: a.token, result: '{"ok":true}' }], ['w9']);
    expect(reply.acks).toEqual([true]);
    expect(reply.tasks.map((t) => [t.id, t.worker])).toEqual([['next', 'w9']]);
    expect(await queue.result('a')).toEqual({ ok: true });
  });

  it('retention (trim.lua) forgets a Done task\'s result with the task', async () => {
    const { redis, queue, consumer, tasks } = await held(['a', 'b']);
    for (const id of ['a', 'b']) {
      const t = tasks.get(id)!;
      expect(await consumer.ack(id, t.worker, t.token, `{"id":"${id}"}`)).toBe(true);
    }
    // keep one: the older goes
    expect(await SCRIPTS.trim.run(redis, scriptKeys('trim', k), [3_600_000, 1, 100])).toBe(1);
    expect(await queue.result('a')).toBeUndefined();
    expect(await queue.status('a')).toBeUndefined();
    expect(await queue.result('b')).toEqual({ id: 'b' });
    expect(await SCRIPTS.trim.run(redis, scriptKeys('trim', k), [0, 0, 100])).toBe(1);
    expect(await redis.exists(k.results)).toBe(0);
  });

  it('a requeue of a Dead or Failed task clears a stale result; a task dropped off a capped list loses its result', async () => {
    const { redis, queue, consumer, tasks } = await held(['dead', 'failed', 'd2', 'd3'], { deadMax: 2 });
    const t = (id: string) => tasks.get(id)!;
    expect(await consumer.fail('dead', t('dead').worker, t('dead').token, { mode: 'dead', reason: 'x' })).toBe('Dead');
    expect(await consumer.fail('failed', t('failed').worker, t('failed').token, { mode: 'reject', reason: 'x' })).toBe('Failed');
    // no script leaves a result with a Dead or Failed task: written by hand (data of another version, a hand edit)
    await redis.hset(k.results, 'dead', '1', 'failed', '2', 'd2', '3');
    expect(await queue.requeueDead(['dead'])).toEqual(['dead']);
    expect(await queue.requeueFailed(['failed'])).toEqual(['failed']);
    expect(await redis.hgetall(k.results)).toEqual({ d2: '3' });
    // the dead list holds 2: d2, then d3; the third Dead task pushes d2 off it, with its data
    expect(await consumer.fail('d2', t('d2').worker, t('d2').token, { mode: 'dead', reason: 'x' })).toBe('Dead');
    expect(await consumer.fail('d3', t('d3').worker, t('d3').token, { mode: 'dead', reason: 'x' })).toBe('Dead');
    const [again] = (await consumer.fetch(['w'])).tasks;
    expect(again?.id).toBe('dead');
    expect(await consumer.fail('dead', again.worker, again.token, { mode: 'dead', reason: 'x' })).toBe('Dead');
    expect(await queue.deadIds()).toEqual(['dead', 'd3']);
    expect(await queue.status('d2')).toBeUndefined();
    expect(await redis.exists(k.results)).toBe(0);
  });
});
