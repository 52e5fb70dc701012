import { Redis } from 'ioredis';
import { Consumer, queueKeys, type Heartbeat } from '@taskq/queue';
import { silentLogger, type LogFn, type Logger } from '@taskq/recorder';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { ThreadHeartbeat } from './heartbeat';
import { waitFor } from './test-support/wait-for';

/** Keeps the messages of warn and error calls. */
function warningsLogger(lines: string[]): Logger {
  const keep: LogFn = (a: object | string, msg?: string) => {
    lines.push(typeof a === 'string' ? a : (msg ?? ''));
  };
  return { ...silentLogger, warn: keep, error: keep, child: () => warningsLogger(lines) };
}

describe('ThreadHeartbeat on a real redis-server (threads/heartbeat.cjs and its client)', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  /** A registered consumer of its own queue and a started ThreadHeartbeat (beat every 50 ms) talking to url. */
  async function beating(queue: string, id: string, url: string) {
    const consumer = new Consumer({ queue, connection: redis, id });
    await consumer.register();
    const beats: Heartbeat[] = [];
    const warnings: string[] = [];
    const heartbeat = new ThreadHeartbeat(consumer, { url }, 50, warningsLogger(warnings));
    heartbeat.start((beat) => beats.push(beat));
    return { consumer, beats, warnings, heartbeat };
  }

  it('beats for a consumer id Redis refuses as a connection name, with a password the server does not ask for, and again after the script cache is flushed', async () => {
    const { consumer, beats, warnings, heartbeat } = await beating('hb-thread', 'my worker ü', `redis://:not-needed@127.0.0.1:${server.port}`);
    try {
      await waitFor('two beats', () => beats.length >= 2, { timeoutMs: 4000 });
      // EVALSHA fails with NOSCRIPT now: the thread falls back to EVAL
      await redis.script('FLUSH');
      const seen = beats.length;
      await waitFor('two beats after SCRIPT FLUSH', () => beats.length >= seen + 2, { timeoutMs: 4000 });
      expect(beats.every((beat) => beat.alive)).toBe(true);
      expect(warnings).toEqual([]);
      const score = Number(await redis.zscore(queueKeys('hb-thread').consumers, consumer.id));
      expect(Date.now() - score).toBeLessThan(1000);
    } finally {
      await heartbeat.stop();
    }
  });

  it('reports a beat that fails (wrong password) as a warning, and beats again once the server takes it', async () => {
    await redis.config('SET', 'requirepass', 'right');
    await redis.auth('right');
    const { beats, warnings, heartbeat } = await beating('hb-thread-auth', 'hb-auth', `redis://:wrong@127.0.0.1:${server.port}`);
    try {
      await waitFor('a warning', () => warnings.length >= 1, { timeoutMs: 4000 });
      expect(warnings[0]).toMatch(/^heartbeat failed: (WRONGPASS|ERR invalid password)/);
      expect(beats).toEqual([]);
      await redis.config('SET', 'requirepass', 'wrong');
      await redis.auth('wrong');
      await waitFor('a beat', () => beats.length >= 1, { timeoutMs: 4000 });
      expect(beats[0]?.alive).toBe(true);
    } finally {
      await heartbeat.stop();
      await redis.config('SET', 'requirepass', '');
    }
  });
});
