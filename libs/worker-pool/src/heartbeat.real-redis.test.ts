import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Consumer, queueKeys, type Heartbeat } from '@taskq/queue';
import { silentLogger, type LogFn, type Logger } from '@taskq/recorder';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { MAX_THREAD_RESTARTS, ThreadHeartbeat } from './heartbeat';
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

  it('one thread beats for a consumer in each of several queues; a queue where it was presumed dead registers again, alone (one connection)', async () => {
    const queues = ['hb-multi-a', 'hb-multi-b'];
    const consumers = queues.map((queue) => new Consumer({ queue, connection: redis, id: 'hb-multi' }));
    for (const c of consumers) await c.register();
    const beats: [number, Heartbeat][] = [];
    const warnings: string[] = [];
    const heartbeat = new ThreadHeartbeat(consumers, { url: server.url }, 50, warningsLogger(warnings));
    heartbeat.start((beat, index) => beats.push([index, beat]));
    try {
      await waitFor('two beats of each queue', () => beats.filter(([i]) => i === 0).length >= 2 && beats.filter(([i]) => i === 1).length >= 2, { timeoutMs: 4000 });
      const list = (await redis.client('LIST')) as string;
      expect(list.split('\n').filter((l) => l.includes('name=taskq-heartbeat-hb-multi '))).toHaveLength(1);
      // the janitor presumed it dead in queue b only
      await redis.zrem(queueKeys('hb-multi-b').consumers, 'hb-multi');
      await waitFor('a beat of queue b that was not alive', () => beats.some(([i, b]) => i === 1 && !b.alive), { timeoutMs: 4000 });
      expect(beats.filter(([i, b]) => i === 0 && !b.alive)).toEqual([]);
      expect(warnings).toEqual(['consumer hb-multi was presumed dead in queue hb-multi-b; its tasks there went back to the queue; registered again']);
      for (const queue of queues) expect(Date.now() - Number(await redis.zscore(queueKeys(queue).consumers, 'hb-multi'))).toBeLessThan(1000);
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

describe('ThreadHeartbeat whose thread crashes', () => {
  let server: RedisServer;
  let redis: Redis;
  let dir: string;
  const realScript = join(__dirname, '..', 'threads', 'heartbeat.cjs');

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
    dir = mkdtempSync(join(tmpdir(), 'taskq-hb-crash-'));
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A thread script that throws on its first `crashes` runs, then runs the real heartbeat thread. */
  function crashingScript(name: string, crashes: number): string {
    const script = join(dir, `${name}.cjs`);
    const count = join(dir, `${name}.count`);
    writeFileSync(
      script,
      [
        "'use strict';",
        "const fs = require('node:fs');",
        `const count = ${JSON.stringify(count)};`,
        "const runs = fs.existsSync(count) ? Number(fs.readFileSync(count, 'utf8')) : 0;",
        'fs.writeFileSync(count, String(runs + 1));',
        `if (runs < ${crashes}) throw new Error('heartbeat thread test crash ' + (runs + 1));`,
        `require(${JSON.stringify(realScript)});`,
      ].join('\n'),
    );
    return script;
  }

  /** Resolves with the time stop() took, or rejects when it takes longer than limitMs. */
  async function timedStop(heartbeat: ThreadHeartbeat, limitMs: number): Promise<number> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        heartbeat.stop(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`stop() still pending after ${limitMs} ms`)), limitMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return Date.now() - started;
  }

  async function beatingWith(queue: string, script: string) {
    const consumer = new Consumer({ queue, connection: redis, id: `${queue}-consumer` });
    await consumer.register();
    const beats: Heartbeat[] = [];
    const errors: string[] = [];
    const heartbeat = new ThreadHeartbeat(consumer, { url: server.url }, 50, warningsLogger(errors), script);
    heartbeat.start((beat) => beats.push(beat));
    return { consumer, beats, errors, heartbeat };
  }

  it('starts a thread that crashed again, beats from it, and stops at once', async () => {
    const { consumer, beats, errors, heartbeat } = await beatingWith('hb-crash-once', crashingScript('once', 1));
    try {
      await waitFor('two beats after the restart', () => beats.length >= 2, { timeoutMs: 5000 });
      expect(heartbeat.onMainThread).toBe(false);
      expect(errors.some((e) => e.startsWith('heartbeat thread crashed: heartbeat thread test crash 1'))).toBe(true);
      expect(errors.some((e) => /^heartbeat thread exited unexpectedly \(code 1\); starting it again \(1 of 3 restarts/.test(e))).toBe(true);
      const score = Number(await redis.zscore(queueKeys('hb-crash-once').consumers, consumer.id));
      expect(Date.now() - score).toBeLessThan(1000);
    } finally {
      expect(await timedStop(heartbeat, 3000)).toBeLessThan(3000);
    }
  });

  it('beats from the main thread once the thread keeps crashing, says so as an error, and stop() does not wait for the dead thread', async () => {
    const { consumer, beats, errors, heartbeat } = await beatingWith('hb-crash-always', crashingScript('always', 1000));
    try {
      await waitFor('the main thread taking over', () => heartbeat.onMainThread, { timeoutMs: 10_000 });
      expect(errors.filter((e) => e.startsWith('heartbeat thread exited unexpectedly'))).toHaveLength(MAX_THREAD_RESTARTS);
      expect(errors.some((e) => e.startsWith(`heartbeat thread keeps failing (${MAX_THREAD_RESTARTS + 1} exits within 60 s): heartbeats now come from the main thread`))).toBe(true);
      const seen = beats.length;
      await waitFor('two beats from the main thread', () => beats.length >= seen + 2, { timeoutMs: 5000 });
      expect(beats.every((beat) => beat.alive)).toBe(true);
      const score = Number(await redis.zscore(queueKeys('hb-crash-always').consumers, consumer.id));
      expect(Date.now() - score).toBeLessThan(1000);
    } finally {
      expect(await timedStop(heartbeat, 3000)).toBeLessThan(3000);
    }
  });
});
