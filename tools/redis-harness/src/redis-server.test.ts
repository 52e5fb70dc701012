import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServerStartError } from './errors/redis-server-start-error';
import { startRedisServer, type RedisServer } from './redis-server';
import { respCommand } from './resp';
import { client, isAlive, probePort, waitUntil } from './test-support/probe';

const started: RedisServer[] = [];

async function start(...args: Parameters<typeof startRedisServer>): Promise<RedisServer> {
  const server = await startRedisServer(...args);
  started.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe('startRedisServer', () => {
  it('starts a private redis-server on 127.0.0.1 that answers PING and has no persistence', async () => {
    const server = await start();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(6379);
    expect(await respCommand(server.port, ['PING'])).toBe('PONG');
    expect(isAlive(server.pid)).toBe(true);
    expect(existsSync(server.dir)).toBe(true);

    const redis = client(server.url);
    try {
      expect(await redis.ping()).toBe('PONG');
      const info = await redis.info('server');
      expect(info).toContain(`process_id:${server.pid}`);
      expect(info).toContain(`tcp_port:${server.port}`);
      expect(await redis.config('GET', 'save')).toEqual(['save', '']);
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      expect(await redis.config('GET', 'dir')).toEqual(['dir', server.dir]);
    } finally {
      redis.disconnect();
    }
  });

  it('stop() ends the process, frees the port and removes its temporary directory', async () => {
    const server = await start();
    const { pid, port, dir } = server;
    await server.stop();
    expect(await probePort(port)).toBe('refused');
    await waitUntil(() => !isAlive(pid), 5000, `pid ${pid} to end`);
    expect(existsSync(dir)).toBe(false);
    await expect(respCommand(port, ['PING'])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.stop(); // a second stop is harmless
  });

  it('keeps a key across restart() with persistence, on the same port and directory', async () => {
    const server = await start({ persistence: true });
    const { port, dir, pid } = server;
    const redis = client(server.url);
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
      await redis.set('survivor', 'still here');
    } finally {
      redis.disconnect();
    }

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.dir).toBe(dir);
    expect(server.pid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);

    const after = client(server.url);
    try {
      expect(await after.get('survivor')).toBe('still here');
    } finally {
      after.disconnect();
    }
  });

  it('keeps an acknowledged write across kill() (SIGKILL) and restart() with persistence', async () => {
    const server = await start({ persistence: true });
    const redis = client(server.url);
    try {
      await redis.rpush('list', 'a', 'b', 'c');
    } finally {
      redis.disconnect();
    }
    const pid = server.pid;
    await server.kill();
    expect(await probePort(server.port)).toBe('refused');
    expect(isAlive(pid)).toBe(false);

    await server.restart();
    const after = client(server.url);
    try {
      expect(await after.lrange('list', 0, -1)).toEqual(['a', 'b', 'c']);
    } finally {
      after.disconnect();
    }
  });

  it('loses data on restart() without persistence', async () => {
    const server = await start();
    const redis = client(server.url);
    try {
      await redis.set('ephemeral', '1');
    } finally {
      redis.disconnect();
    }
    await server.restart();
    const after = client(server.url);
    try {
      expect(await after.get('ephemeral')).toBeNull();
    } finally {
      after.disconnect();
    }
  });

  it('honours a given port, directory and extra args, and leaves a given directory in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskq-harness-test-'));
    try {
      const probe = await start();
      const port = probe.port;
      await probe.stop(); // its port is now free for the next server
      const server = await start({ port, dir, args: ['--maxmemory', '7mb'] });
      expect(server.port).toBe(port);
      expect(server.dir).toBe(dir);
      const redis = client(server.url);
      try {
        expect(await redis.config('GET', 'maxmemory')).toEqual(['maxmemory', String(7 * 1024 * 1024)]);
        expect(await redis.config('GET', 'dir')).toEqual(['dir', dir]);
      } finally {
        redis.disconnect();
      }
      await server.stop();
      expect(existsSync(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each server its own port', async () => {
    const servers = await Promise.all([start(), start(), start()]);
    expect(new Set(servers.map((s) => s.port)).size).toBe(3);
    for (const s of servers) expect(await respCommand(s.port, ['PING'])).toBe('PONG');
  });

  it('fails with the server output when the given port is taken', async () => {
    // Something else listens on the port (and hangs up on whoever connects).
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const err = await startRedisServer({ port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisServerStartError);
      expect((err as Error).message).toContain(`port ${port}`);
      expect((err as Error).message).toMatch(/address already in use/i);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('fails with the server output when redis-server rejects its arguments', async () => {
    const err = await startRedisServer({ args: ['--maxmemory-policy', 'not-a-policy'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisServerStartError);
    expect((err as Error).message).toMatch(/exited \(code 1/);
    expect((err as RedisServerStartError).outputTail).toMatch(/not-a-policy/);
  });

  it('stop() escalates to SIGKILL when the server ignores SIGTERM', async () => {
    const server = await start();
    const pid = server.pid;
    process.kill(pid, 'SIGSTOP'); // a stopped process cannot act on SIGTERM; SIGKILL still works
    const begun = Date.now();
    await server.stop();
    expect(Date.now() - begun).toBeGreaterThanOrEqual(4900);
    expect(isAlive(pid)).toBe(false);
    expect(await probePort(server.port)).toBe('refused');
  });
});

describe('the exit guard', () => {
  it.each(['natural', 'throw'])('kills a server that was never stopped when its process exits (%s)', async (how) => {
    let stdout: string;
    try {
      stdout = execFileSync(process.execPath, [join(__dirname, 'test-support', 'start-and-exit.cjs'), how], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 20_000,
      });
    } catch (err) {
      // 'throw' ends with a non-zero exit code; the line was printed before.
      stdout = String((err as { stdout?: string }).stdout ?? '');
      if (how === 'natural') throw err;
    }
    const { pid, port, dir } = JSON.parse(stdout.trim().split('\n')[0] ?? '') as { pid: number; port: number; dir: string };
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => !isAlive(pid), 5000, `orphaned redis-server pid ${pid} to end`);
    expect(await probePort(port)).toBe('refused');
    expect(existsSync(dir)).toBe(false);
  });
});
