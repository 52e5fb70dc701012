import { mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, pruneExpiredClaims, PORT_CLAIM_TTL_MS } from './free-port';

describe('freePort', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'free-port-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Offers the given ports in turn, as a kernel that hands a freed port out again would. */
  const offering = (...ports: number[]) => {
    const offered: number[] = [];
    let i = 0;
    return {
      offered,
      offer: async () => {
        const port = ports[Math.min(i++, ports.length - 1)] ?? 0;
        offered.push(port);
        return port;
      },
    };
  };

  it('never hands out a port it handed out before, though it is offered again (a killed server\'s port, watched by Sentinels still)', async () => {
    const first = offering(41001);
    expect(await freePort({ claimsDir: dir, offer: first.offer })).toBe(41001);
    const again = offering(41001, 41001, 41002);
    expect(await freePort({ claimsDir: dir, offer: again.offer })).toBe(41002);
    expect(again.offered).toEqual([41001, 41001, 41002]);
    expect(readdirSync(dir).sort()).toEqual(['41001', '41002']);
  });

  it(`hands a port out again once its claim is older than ${PORT_CLAIM_TTL_MS / 60_000} min`, async () => {
    expect(await freePort({ claimsDir: dir, offer: offering(41003).offer })).toBe(41003);
    const old = (Date.now() - PORT_CLAIM_TTL_MS - 1000) / 1000;
    utimesSync(join(dir, '41003'), old, old);
    expect(await freePort({ claimsDir: dir, offer: offering(41003).offer })).toBe(41003);
    // and the claim is fresh again
    await expect(freePort({ claimsDir: dir, offer: offering(41003).offer })).rejects.toThrow(/offered only ports handed out in the last 30 min \(1 of them/);
  });

  it('prunes the claims that expired (a process does it once per directory, on its first freePort) and keeps the live ones', async () => {
    for (const port of [41004, 41005, 41006]) expect(await freePort({ claimsDir: dir, offer: offering(port).offer })).toBe(port);
    const old = (Date.now() - PORT_CLAIM_TTL_MS - 1000) / 1000;
    utimesSync(join(dir, '41004'), old, old);
    utimesSync(join(dir, '41006'), old, old);
    expect(pruneExpiredClaims(dir)).toBe(2);
    expect(readdirSync(dir)).toEqual(['41005']);
    expect(pruneExpiredClaims(dir)).toBe(0);
  });

  it('gives ports that can be bound, each once, from the kernel', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort({ claimsDir: dir }));
    expect(new Set(ports).size).toBe(20);
    const port = ports[0] ?? 0;
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => server.close(() => resolve()));
    });
  });
});
