import { DEFAULT_QUEUE, keysOf } from './config';
import { assertQueueName, DEFAULT_KEY_PREFIX, queueKeys, type QueueKeys } from './keys';
import { InvalidQueueNameError } from './errors/invalid-queue-name-error';

/** The hash tag Redis Cluster hashes a key by: the text between the first `{` and the next `}`, if not empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

function allKeys(keys: QueueKeys): string[] {
  return [
    keys.ready,
    keys.tasks,
    keys.ids,
    keys.attempts,
    keys.status,
    keys.seq,
    keys.consumers,
    keys.rejected,
    keys.delayed,
    keys.retrying,
    keys.dead,
    keys.finished,
    keys.cancelled,
    keys.epoch,
    keys.prioritized,
    keys.priorities,
    keys.paused,
    keys.limits,
    keys.limitHeld,
    keys.limitActive,
    keys.limitStarts,
    keys.parked,
    keys.schedules,
    keys.scheduled,
    keys.throughput,
    keys.results,
    keys.janitorLock,
    keys.events,
    keys.wake,
    keys.processing('worker-1'),
    keys.processing('host:1234:{odd}'),
  ];
}

describe('queueKeys', () => {
  it.each([
    ['default', undefined],
    ['emails', 'taskq'],
    ['Q.1:high_prio-x', 'app:v2'],
  ])('puts the hash tag {%s} on every key and channel (prefix %s)', (queue, prefix) => {
    const keys = queueKeys(queue, prefix);
    expect(keys.queue).toBe(queue);
    for (const key of allKeys(keys)) {
      expect(key.startsWith(`${prefix ?? DEFAULT_KEY_PREFIX}:{${queue}}:`)).toBe(true);
      expect(hashTag(key)).toBe(queue);
    }
  });

  it('gives every structure its own name, and each consumer its own processing list', () => {
    const keys = queueKeys('q');
    const names = allKeys(keys);
    expect(new Set(names).size).toBe(names.length);
    expect(keys.processing('a')).not.toBe(keys.processing('b'));
    expect(keys.ready).toBe('taskq:{q}:ready');
    expect(keys.processing('c1')).toBe('taskq:{q}:processing:c1');
  });

  it('keeps queues apart: no key of one queue is a key of another', () => {
    const a = new Set(allKeys(queueKeys('a')));
    for (const key of allKeys(queueKeys('b'))) expect(a.has(key)).toBe(false);
    const other = new Set(allKeys(queueKeys('a', 'other')));
    for (const key of a) expect(other.has(key)).toBe(false);
  });

  it.each(['', 'has space', 'a{b', 'a}b', '{a}', 'tab\t', 'new\nline', 'ünï', 'a/b', 'x'.repeat(201)])(
    'rejects the queue name %j',
    (queue) => {
      expect(() => queueKeys(queue)).toThrow(InvalidQueueNameError);
      expect(() => assertQueueName(queue)).toThrow(InvalidQueueNameError);
    },
  );

  it('names the bad queue and the allowed characters in the error', () => {
    let err: unknown;
    try {
      queueKeys('bad name');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidQueueNameError);
    expect((err as Error).name).toBe('InvalidQueueNameError');
    expect((err as Error).message).toContain('"bad name"');
    expect((err as Error).message).toContain('A-Z a-z 0-9 _ . : -');
  });

  it.each(['a', 'x'.repeat(200), 'A-z_0.9:-'])('accepts the queue name %j', (queue) => {
    expect(() => assertQueueName(queue)).not.toThrow();
    expect(queueKeys(queue).queue).toBe(queue);
  });

  it.each(['{taskq}', 'tas{k', 'ta}skq'])('rejects the key prefix %j, which would change the hash tag', (prefix) => {
    expect(() => queueKeys('q', prefix)).toThrow(/must not contain braces/);
  });
});

describe('keysOf', () => {
  it('uses the default prefix unless one is configured', () => {
    expect(keysOf({ queue: DEFAULT_QUEUE }).status).toBe('taskq:{default}:status');
    expect(keysOf({ queue: 'q', prefix: 'tenant7' }).events).toBe('tenant7:{q}:events');
  });

  it('validates the queue name', () => {
    expect(() => keysOf({ queue: 'no good' })).toThrow(InvalidQueueNameError);
  });
});
