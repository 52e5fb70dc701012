import { respCommand, respCommands } from './resp';
import { startRedisSentinel, type RedisSentinelGroup } from './redis-sentinel';

let group: RedisSentinelGroup | undefined;
afterAll(async () => {
  await group?.stop();
});

describe('startRedisSentinel', () => {
  it('starts a master, its replica and 3 sentinels; a failover (the old master made a replica) and a killed master each promote the other server', async () => {
    const t0 = Date.now();
    group = await startRedisSentinel();
    const startMs = Date.now() - t0;
    const [first, second] = group.servers;
    expect(group.sentinels).toHaveLength(3);
    expect(group.url).toBe(`redis+sentinel://${group.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/mymaster`);
    expect(await group.masterPort()).toBe(first.port);
    // SET and WAIT on one connection: WAIT waits for the replicas to acknowledge its own connection's
    // writes (on a fresh connection it returned 1 at once, the replica at offset 0: how this test failed before)
    expect(await respCommands(first.port, [['SET', 'k', 'v'], ['WAIT', '1', '2000']], 3000)).toEqual(['OK', 1]);
    expect(await respCommand(second.port, ['GET', 'k'])).toBe('v');
    await expect(respCommand(second.port, ['SET', 'k', 'w'])).rejects.toThrow(/^READONLY/);

    const failover = await group.failover();
    expect(failover).toMatchObject({ from: first.port, to: second.port });
    expect(await group.masterPort()).toBe(second.port);
    await expect(respCommand(first.port, ['SET', 'k', 'w'])).rejects.toThrow(/^READONLY/);
    // replicated before the crash (else the crash may lose it: replication is asynchronous)
    expect(await respCommands(second.port, [['SET', 'k', 'w'], ['WAIT', '1', '5000']], 6000)).toEqual(['OK', 1]);

    const crash = await group.killMaster();
    expect(crash).toMatchObject({ from: second.port, to: first.port });
    // the sentinels needed at least down-after-milliseconds (3000) to see it down
    expect(crash.ms).toBeGreaterThanOrEqual(3000);
    // the promoted server kept the write WAIT 1 confirmed, and takes writes
    expect(await respCommand(first.port, ['GET', 'k'])).toBe('w');
    expect(await respCommand(first.port, ['SET', 'k', 'x'])).toBe('OK');
    console.log(`sentinel group: started in ${startMs} ms; SENTINEL FAILOVER: new master after ${failover.ms} ms; killed master: replaced after ${crash.ms} ms`);
  }, 90_000);
});
