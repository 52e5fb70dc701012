import { monitored, RawMonitor, unquote } from './raw-monitor';
import { startRedisServer, type RedisServer } from './redis-server';
import { client } from './test-support/probe';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
}, 20_000);
afterAll(() => server.stop());

describe('unquote', () => {
  it("undoes MONITOR's quoting", () => {
    expect(unquote('plain')).toBe('plain');
    expect(unquote('{\\"i\\":0}')).toBe('{"i":0}');
    expect(unquote('a\\\\b\\r\\n\\t\\x01')).toBe('a\\b\r\n\t\x01');
  });
});

describe('monitored', () => {
  it("returns every command run while the body ran, a script's own calls marked lua, arguments unquoted", async () => {
    const redis = client(server.url);
    try {
      await redis.ping(); // connected and ready-checked before the monitor starts
      const commands = await monitored(server.url, async () => {
        await redis.set('k', '{"a":"b c"}');
        await redis.eval("return redis.call('GET', KEYS[1])", 1, 'k');
      });
      expect(commands).toEqual([
        { args: ['set', 'k', '{"a":"b c"}'], lua: false },
        { args: ['eval', "return redis.call('GET', KEYS[1])", '1', 'k'], lua: false },
        { args: ['GET', 'k'], lua: true },
      ]);
    } finally {
      redis.disconnect();
    }
  });

  it('a monitor started while another client is busy loses nothing after its start and hands lines to the callback', async () => {
    const redis = client(server.url);
    const seen: string[] = [];
    const monitor = await RawMonitor.start(server.url, (args) => {
      if (args[0] === 'incr') seen.push(args[1] ?? '');
    });
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => redis.incr(`n${i}`)));
      await monitor.settle();
      expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => `n${i}`));
    } finally {
      monitor.stop();
      redis.disconnect();
    }
  });
});
