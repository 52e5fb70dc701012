import { InvalidStatusRecordError, TaskqError } from '@taskq/recorder';
import { ConnectionClosedError } from './errors/connection-closed-error';
import { InvalidQueueNameError } from './errors/invalid-queue-name-error';
import { InvalidTaskError } from './errors/invalid-task-error';
import { RedisConnectionError } from './errors/redis-connection-error';
import { UnsupportedRedisError } from './errors/unsupported-redis-error';
import { queueKeys } from './keys';
import { validateInput } from './task';

describe('errors', () => {
  it('share the TaskqError base, each with its own stable code and name, and keep the cause', () => {
    const cause = new Error('socket hang up');
    const errors: [TaskqError, string, string][] = [
      [new InvalidTaskError('bad', { cause }), 'TASKQ_INVALID_TASK', 'InvalidTaskError'],
      [new RedisConnectionError('redis://h:1', 'down', { cause }), 'TASKQ_REDIS_UNREACHABLE', 'RedisConnectionError'],
      [new UnsupportedRedisError('old'), 'TASKQ_UNSUPPORTED_REDIS', 'UnsupportedRedisError'],
      [new InvalidQueueNameError('a b'), 'TASKQ_INVALID_QUEUE_NAME', 'InvalidQueueNameError'],
      [new InvalidStatusRecordError('{}'), 'TASKQ_INVALID_STATUS_RECORD', 'InvalidStatusRecordError'],
      [new ConnectionClosedError('redis://h:1'), 'TASKQ_CONNECTION_CLOSED', 'ConnectionClosedError'],
    ];
    for (const [err, code, name] of errors) {
      expect(err).toBeInstanceOf(TaskqError);
      expect(err).toBeInstanceOf(Error);
      expect({ code: err.code, name: err.name }).toEqual({ code, name });
    }
    expect(errors[0]?.[0].cause).toBe(cause);
  });

  it('are what the library throws', () => {
    expect(() => queueKeys('no spaces')).toThrow(InvalidQueueNameError);
    let thrown: unknown;
    try {
      validateInput({ type: '' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'TASKQ_INVALID_TASK', name: 'InvalidTaskError' });
  });
});
