import { respCommand } from './resp';
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
    await respCommand(first.port, ['SET', 'k', 'v']);
    // the write reaches the replica, which refuses writes of its own
    expect(await respCommand(first.port, ['WAIT', '1', '2000'])).toBe(1);
    const replicated = await respCommand(second.port, ['GET', 'k']);
    if (replicated !== 'v') {
      // seen twice under load in CI, not understood: the failure says what both servers and the sentinels thought
      const info = async (port: number): Promise<string> => String(await respCommand(port, ['INFO', 'replication'])).replace(/\r\n/g, ' ');
      throw new Error(`after SET k v and WAIT 1 = 1 on :${first.port}, GET k on :${second.port} = ${String(replicated)}; sentinels' master :${await group.masterPort()}; :${first.port}: ${await info(first.port)}; :${second.port}: ${await info(second.port)}`);
    }
    await expect(respCommand(second.port, ['SET', 'k', 'w'])).rejects.toThrow(/^READONLY/);

    const failover = await group.failover();
    expect(failover).toMatchObject({ from: first.port, to: second.port });
    expect(await group.masterPort()).toBe(second.port);
    await expect(respCommand(first.port, ['SET', 'k', 'w'])).rejects.toThrow(/^READONLY/);
    expect(await respCommand(second.port, ['SET', 'k', 'w'])).toBe('OK');
    // replicated before the crash (else the crash may lose it: replication is asynchronous)
    expect(await respCommand(second.port, ['WAIT', '1', '5000'])).toBe(1);

    const crash = await group.killMaster();
    expect(crash).toMatchObject({ from: second.port, to: first.port });
    // the sentinels needed at least down-after-milliseconds (3000) to see it down
    expect(crash.ms).toBeGreaterThanOrEqual(3000);
    // the promoted server takes writes (whether it kept the last one is not this harness's to check:
    // in 2 CI runs under load it had not, despite WAIT 1 before the kill; see the session notes)
    expect(await respCommand(first.port, ['SET', 'k', 'x'])).toBe('OK');
    console.log(`sentinel group: started in ${startMs} ms; SENTINEL FAILOVER: new master after ${failover.ms} ms; killed master: replaced after ${crash.ms} ms`);
  }, 90_000);
});
