import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { waitFor } from './test-support/wait-for';

/** The heartbeat thread's client (plain JS, threads/resp-client.cjs), typed for these tests. */
interface RedisOptions {
  host: string;
  port: number;
  tls: boolean;
  username: string;
  password: string;
  db: number;
}
interface Client {
  call(...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<void>;
}
interface RespModule {
  RespClient: new (options: RedisOptions, name: string, commandTimeoutMs?: number) => Client;
  RedisReplyError: new (message: string) => Error;
  parseRedisUrl(url: string): RedisOptions | undefined;
  parseReply(buf: Buffer, pos: number): { value: unknown; pos: number } | undefined;
  encodeCommand(args: (string | number)[]): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const resp = require('../threads/resp-client.cjs') as RespModule;

describe('heartbeat thread client: RESP', () => {
  it('encodes a command as an array of bulk strings, lengths in bytes', () => {
    expect(resp.encodeCommand(['EVALSHA', 'ab', 1, 'kéy'])).toBe('*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$4\r\nkéy\r\n');
  });

  it('parses every RESP2 reply type, nested arrays included', () => {
    const buf = Buffer.from('*5\r\n:1\r\n$3\r\nabc\r\n$-1\r\n*2\r\n+OK\r\n$0\r\n\r\n-ERR boom\r\n:7\r\n');
    const first = resp.parseReply(buf, 0);
    expect(first?.value).toEqual([1, 'abc', null, ['OK', ''], expect.any(resp.RedisReplyError)]);
    expect(((first?.value as unknown[])[4] as Error).message).toBe('ERR boom');
    expect(resp.parseReply(buf, first!.pos)).toEqual({ value: 7, pos: buf.length });
  });

  it('waits for the rest of a reply split anywhere, including inside a multi-byte character', () => {
    const whole = Buffer.from('*2\r\n:1\r\n$4\r\nkéy\r\n');
    for (let cut = 0; cut < whole.length; cut++) {
      expect(resp.parseReply(whole.subarray(0, cut), 0)).toBeUndefined();
    }
    expect(resp.parseReply(whole, 0)).toEqual({ value: [1, 'kéy'], pos: whole.length });
  });

  it('refuses a reply type it does not know', () => {
    expect(() => resp.parseReply(Buffer.from('%1\r\n'), 0)).toThrow(/unexpected reply from Redis/);
  });
});

describe('heartbeat thread client: URLs', () => {
  it('reads host, port, TLS, credentials and db of redis:// and rediss:// URLs', () => {
    expect(resp.parseRedisUrl('redis://127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380, tls: false, username: '', password: '', db: 0 });
    expect(resp.parseRedisUrl('rediss://u%40x:p%3Aw@cache.example:7000/3')).toEqual({
      host: 'cache.example',
      port: 7000,
      tls: true,
      username: 'u@x',
      password: 'p:w',
      db: 3,
    });
    expect(resp.parseRedisUrl('redis://:secret@[::1]')).toEqual({ host: '::1', port: 6379, tls: false, username: '', password: 'secret', db: 0 });
  });

  it('leaves to ioredis what it does not cover: query options, a lone user name, other schemes, a db that is not a number', () => {
    for (const url of ['redis://h:1?family=6', 'redis://secret@h:1', 'unix:///tmp/r.sock', '/tmp/r.sock', 'redis://h:1/x', 'not a url', 'redis://:50%@h:1']) {
      expect(resp.parseRedisUrl(url)).toBeUndefined();
    }
  });
});

describe('heartbeat thread client on a real redis-server', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    await admin.config('SET', 'requirepass', 'se:cret');
    await admin.auth('se:cret');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.quit();
  });

  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  const connect = (url: string, name = 'hb-test') => {
    const options = resp.parseRedisUrl(url);
    if (!options) throw new Error(`unsupported ${url}`);
    const client = new resp.RespClient(options, name);
    clients.push(client);
    return client;
  };

  it('authenticates, selects the db, names the connection and runs scripts; an error reply fails only its command', async () => {
    const client = connect(`redis://:se%3Acret@127.0.0.1:${server.port}/2`);
    expect(await client.call('SET', 'k', 'v')).toBe('OK');
    expect(await client.call('CLIENT', 'GETNAME')).toBe('hb-test');
    await admin.select(2);
    expect(await admin.get('k')).toBe('v');
    await admin.select(0);
    expect(await admin.get('k')).toBeNull();
    expect(await client.call('EVAL', "return {1, 'a', redis.call('GET', KEYS[1])}", 1, 'k')).toEqual([1, 'a', 'v']);
    await expect(client.call('EVALSHA', '0000000000000000000000000000000000000000', 0)).rejects.toThrow(/^NOSCRIPT/);
    expect(await client.call('GET', 'missing')).toBeNull();
  });

  it('fails a wrong password with the server error, and the next call tries again', async () => {
    const client = connect(`redis://:wrong@127.0.0.1:${server.port}`);
    await expect(client.call('PING')).rejects.toThrow(/WRONGPASS|invalid password/);
    await expect(client.call('PING')).rejects.toThrow(/WRONGPASS|invalid password/);
  });

  it('fails the commands of a dropped connection and connects again on the next call', async () => {
    const client = connect(`redis://:se%3Acret@127.0.0.1:${server.port}`, 'hb-drop');
    const id = await client.call('CLIENT', 'ID');
    // a command in flight (blocked) when the server closes the connection
    const blocked = client.call('BLPOP', 'nothing-here', 30);
    await waitFor('the client to block in BLPOP', async () => String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal')).includes('cmd=blpop'));
    expect(await admin.client('KILL', 'ID', String(id))).toBe(1);
    await expect(blocked).rejects.toThrow(/closed|ECONNRESET/);
    expect(await client.call('PING')).toBe('PONG');
    expect(await client.call('CLIENT', 'GETNAME')).toBe('hb-drop');
    expect(await client.call('CLIENT', 'ID')).not.toBe(id);
  });

  it('connects with a password the server does not ask for and a name it refuses, as ioredis does', async () => {
    await admin.config('SET', 'requirepass', '');
    try {
      const client = connect(`redis://:not-needed@127.0.0.1:${server.port}`, 'a name with spaces');
      expect(await client.call('PING')).toBe('PONG');
      expect(await client.call('CLIENT', 'GETNAME')).toBeNull();
    } finally {
      await admin.config('SET', 'requirepass', 'se:cret');
    }
  });

  it('drops a connection whose server accepts but never answers, after the command timeout', async () => {
    const sockets: Socket[] = [];
    // reads what it gets (so it sees the client close), answers nothing
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const options = resp.parseRedisUrl(`redis://127.0.0.1:${port}`)!;
      const client = new resp.RespClient(options, '', 200);
      const started = Date.now();
      await expect(client.call('PING')).rejects.toThrow('no reply from Redis within 200 ms');
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      await waitFor('the silent connection to be dropped', async () => sockets.length === 1 && sockets[0].destroyed);
      // the next call connects again (and times out again: the server is still silent)
      await expect(client.call('PING')).rejects.toThrow('no reply from Redis within 200 ms');
      expect(sockets).toHaveLength(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('reports a server that is not there', async () => {
    const client = connect('redis://127.0.0.1:1');
    await expect(client.call('PING')).rejects.toThrow(/ECONNREFUSED/);
  });
});
