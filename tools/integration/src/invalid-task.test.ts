import { InvalidTaskError, Queue, type TaskInput, queueKeys } from '@taskq/queue';
import { enqueueState } from './test-support/queue-state';
import { newQueueName, RedisClients } from './test-support/redis-fixture';

const clients = new RedisClients();

afterEach(() => clients.close());

const base = { type: 'sleep', payload: { ms: 1 } } as const;

// Inputs a caller could pass from plain JavaScript (or through a cast): each must be refused up front.
const BAD: Array<[string, TaskInput, string]> = [
  ['a negative delayMs', { ...base, delayMs: -1 }, 'delayMs must be a number >= 0, got -1'],
  ['a NaN delayMs', { ...base, delayMs: Number.NaN }, 'delayMs must be a number >= 0'],
  ['maxAttempts 0', { ...base, maxAttempts: 0 }, 'maxAttempts must be a whole number >= 1, got 0'],
  ['maxAttempts 1.5', { ...base, maxAttempts: 1.5 }, 'maxAttempts must be a whole number >= 1, got 1.5'],
  ['timeoutMs 0', { ...base, timeoutMs: 0 }, 'timeoutMs must be a number > 0, got 0'],
  [
    'an unknown backoff type',
    { ...base, backoff: { type: 'linear', delayMs: 10 } as unknown as TaskInput['backoff'] },
    'unknown backoff type "linear": use exponential, fixed or custom',
  ],
  ['a fixed backoff without delay', { ...base, backoff: { type: 'fixed' } as unknown as TaskInput['backoff'] }, 'backoff.delayMs must be >= 0 for a fixed backoff'],
  ['delayMs together with runAt', { ...base, delayMs: 10, runAt: Date.now() + 1000 }, 'give delayMs or runAt, not both'],
  ['an empty type', { type: '' }, 'task type must be a string of 1-200 characters, got ""'],
  ['an id with a space', { ...base, id: 'a b' }, 'task id must be 1-256 characters without spaces, quotes, backslashes or control characters, got "a b"'],
  ['an id with a quote', { ...base, id: 'a"b' }, 'task id must be 1-256 characters without spaces, quotes, backslashes or control characters, got "a\\"b"'],
  // a lone surrogate reaches Redis as U+FFFD: ls_\uD800 and ls_\uDBFF would be one task
  ['an id with a lone high surrogate', { ...base, id: 'ls_\uD800' }, 'got "ls_\\ud800": a lone UTF-16 surrogate at index 3'],
  ['an id with a lone surrogate, the other one', { ...base, id: 'ls_\uDBFF' }, 'got "ls_\\udbff": a lone UTF-16 surrogate at index 3'],
  ['an id with U+0085 (a C1 control character)', { ...base, id: 'a\u0085b' }, ': U+0085 (a control character) at index 1'],
  ['a payload JSON cannot hold', { type: 'sleep', payload: { n: 10n } as unknown as TaskInput['payload'] }, 'payload.n is a bigint (10n), which JSON cannot represent'],
  ['a NaN in the payload', { type: 'sleep', payload: { ms: Number.NaN } }, 'payload.ms is NaN, which JSON cannot represent'],
  ['a function in the payload', { type: 'sleep', payload: { ms: 1, f: () => 1 } as unknown as TaskInput['payload'] }, 'payload.f is a function'],
  ['a symbol in the payload', { type: 'sleep', payload: [Symbol('s')] as unknown as TaskInput['payload'] }, 'payload[0] is a symbol'],
  ['a Map in the payload', { type: 'sleep', payload: { m: new Map([['a', 1]]) } as unknown as TaskInput['payload'] }, 'payload.m is a Map'],
  ['a Date in the payload', { type: 'sleep', payload: { at: new Date() } as unknown as TaskInput['payload'] }, 'payload.at is a Date, which JSON turns into a string'],
  ['a cycle in the payload', { type: 'sleep', payload: cyclic() }, 'payload.a.back refers back to payload.a (a cycle)'],
];

function cyclic(): TaskInput['payload'] {
  const a: Record<string, unknown> = {};
  a['back'] = a;
  return { a } as unknown as TaskInput['payload'];
}

async function setup(label: string) {
  const name = newQueueName(label);
  const redis = await clients.connect();
  const keys = queueKeys(name);
  const queue = new Queue({ queue: name, connection: redis });
  // something already there, so "unchanged" compares real content
  await queue.enqueueMany([
    { id: `${name}-ready`, ...base },
    { id: `${name}-delayed`, ...base, delayMs: 60_000 },
  ]);
  return { redis, keys, queue };
}

describe('enqueue of an invalid task', () => {
  it.each(BAD)('%s: InvalidTaskError with a clear message, nothing written', async (_, input, message) => {
    const { redis, keys, queue } = await setup('invalid');
    const before = await enqueueState(redis, keys);
    const error: unknown = await queue.enqueue({ ...input, id: input.id ?? `${queue.name}-bad` }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(InvalidTaskError);
    expect((error as Error).name).toBe('InvalidTaskError');
    expect((error as Error).message).toContain(message);
    expect(await enqueueState(redis, keys)).toEqual(before);
  });

  it('enqueueMany with one bad input among 1500 good ones (two script calls\' worth) writes none of them', async () => {
    const { redis, keys, queue } = await setup('invalid-many');
    const before = await enqueueState(redis, keys);
    const inputs: TaskInput[] = Array.from({ length: 1500 }, (_, i) => ({ id: `${queue.name}-${i}`, ...base }));
    inputs[1400] = { ...base, id: `${queue.name}-1400`, maxAttempts: 0 };
    await expect(queue.enqueueMany(inputs)).rejects.toThrow(new InvalidTaskError('maxAttempts must be a whole number >= 1, got 0'));
    expect(await enqueueState(redis, keys)).toEqual(before);

    // the same batch without the bad input goes in whole
    inputs[1400] = { ...base, id: `${queue.name}-1400` };
    expect(await queue.enqueueMany(inputs)).toHaveLength(1500);
    expect(await queue.readyCount()).toBe(1501);
  });

  it('enqueueMany with one bad payload among 1500 names the task and the path, and writes none of them', async () => {
    const { redis, keys, queue } = await setup('invalid-payload-many');
    const before = await enqueueState(redis, keys);
    const inputs: TaskInput[] = Array.from({ length: 1500 }, (_, i) => ({ ...base, payload: { ms: i } }));
    inputs[1200] = { ...base, payload: { ms: 1, extra: [1, Infinity] } };
    await expect(queue.enqueueMany(inputs)).rejects.toThrow(
      new InvalidTaskError('task #1200 (no id yet): payload.extra[1] is Infinity, which JSON cannot represent (it would arrive as null)'),
    );
    expect(await enqueueState(redis, keys)).toEqual(before);
  });
});
