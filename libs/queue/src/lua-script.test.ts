import { Cluster } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { FLOW_SCRIPTS } from './flow/flow-engine';
import { isClusterClient, LuaScript, SCRIPTS, shardedSource } from './lua-script';

describe('LuaScript texts for a server and for a Cluster', () => {
  it("every queue script's Cluster text SPUBLISHes and has no plain PUBLISH left; its server text has no SPUBLISH", () => {
    for (const script of Object.values(SCRIPTS)) {
      expect(script.sharded.source).not.toMatch(/(?<!S)PUBLISH'/);
      expect(script.plain.source).not.toMatch(/SPUBLISH/);
      // the record prelude publishes, so every queue script has a Cluster text of its own
      expect(script.sharded.sha).not.toBe(script.plain.sha);
      expect(script.sharded.source).toContain("'SPUBLISH'");
    }
  });

  it('the flow scripts publish on the flow events channel (no hash tag): PUBLISH on a Cluster too', () => {
    for (const script of Object.values(FLOW_SCRIPTS)) {
      expect(script.sharded).toBe(script.plain);
      expect(script.plain.source).toContain("redis.call('PUBLISH', channel");
    }
  });

  it('textFor picks the Cluster text for a Cluster client only', () => {
    const script = new LuaScript('t', "redis.call('PUBLISH', KEYS[1], 'x')", true);
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    expect(isClusterClient(cluster)).toBe(true);
    expect(script.textFor(cluster).source).toBe("redis.call('SPUBLISH', KEYS[1], 'x')");
    const server = new RedisMock();
    expect(isClusterClient(server)).toBe(false);
    expect(script.textFor(server).source).toBe("redis.call('PUBLISH', KEYS[1], 'x')");
    server.disconnect();
    cluster.disconnect();
  });

  it('refuses a text with a PUBLISH it would not make sharded', () => {
    expect(() => shardedSource('redis.call("PUBLISH", KEYS[1], 1)')).toThrow(/PUBLISH this cannot make sharded/);
    expect(shardedSource("-- PUBLISH in a comment\nredis.call('PUBLISH', KEYS[1], 1)")).toBe("-- PUBLISH in a comment\nredis.call('SPUBLISH', KEYS[1], 1)");
  });
});
