import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { RedisServerNotFoundError } from './errors/redis-server-not-found-error';
import { findRedisServer } from './find-redis-server';

describe('findRedisServer', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'taskq-find-redis-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('finds redis-server on this machine\'s PATH', () => {
    expect(findRedisServer()).toMatch(/\/redis-server$/);
  });

  it('says how to install redis-server when it is not on PATH', () => {
    const err = (() => {
      try {
        findRedisServer(join(scratch, 'nothing-here'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(RedisServerNotFoundError);
    expect((err as Error).name).toBe('RedisServerNotFoundError');
    expect((err as Error).message).toContain('apt-get install -y redis-server');
    expect((err as Error).message).toContain('brew install redis');
  });

  it('skips a redis-server that is not executable and takes the first executable one', () => {
    const first = join(scratch, 'a');
    const second = join(scratch, 'b');
    mkdirSync(first);
    mkdirSync(second);
    writeFileSync(join(first, 'redis-server'), '#!/bin/sh\n');
    chmodSync(join(first, 'redis-server'), 0o644);
    writeFileSync(join(second, 'redis-server'), '#!/bin/sh\n');
    chmodSync(join(second, 'redis-server'), 0o755);
    expect(findRedisServer(['', first, second].join(delimiter))).toBe(join(second, 'redis-server'));
  });
});
