import { startRedisServer, type RedisServer } from './redis-server';
import { respCommand, RespErrorReply } from './resp';

describe('respCommand', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('reads simple, integer, bulk and null replies', async () => {
    expect(await respCommand(server.port, ['PING'])).toBe('PONG');
    expect(await respCommand(server.port, ['SET', 'k', 'héllo\r\nworld'])).toBe('OK');
    expect(await respCommand(server.port, ['GET', 'k'])).toBe('héllo\r\nworld');
    expect(await respCommand(server.port, ['INCR', 'n'])).toBe(1);
    expect(await respCommand(server.port, ['GET', 'missing'])).toBeNull();
  });

  it('rejects with the error reply', async () => {
    const err = await respCommand(server.port, ['NOSUCHCOMMAND']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RespErrorReply);
    expect((err as Error).message).toMatch(/unknown command/i);
  });

  it('reads a bulk reply that arrives in several chunks', async () => {
    const big = 'x'.repeat(300_000);
    expect(await respCommand(server.port, ['SET', 'big', big], 5000)).toBe('OK');
    expect(await respCommand(server.port, ['GET', 'big'], 5000)).toBe(big);
  });
});
