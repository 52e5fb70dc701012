import { mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where freePort() records the ports it handed out, one file per port, for
 * every process on the machine (test files run side by side in several).
 */
export const PORT_CLAIMS_DIR = join(tmpdir(), 'taskq-harness-ports');

/** How long a port handed out stays out of reach of the other freePort() calls. */
export const PORT_CLAIM_TTL_MS = 30 * 60_000;

/** A port the kernel picks for a bind to port 0 on 127.0.0.1, closed again. */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as AddressInfo;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Records `port` as handed out; false if a freePort() call (of any process) handed it out within PORT_CLAIM_TTL_MS. */
function claim(dir: string, port: number, now: number): boolean {
  const file = join(dir, String(port));
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let age: number;
  try {
    age = now - statSync(file).mtimeMs;
  } catch {
    return false; // being renewed by another process right now
  }
  if (age < PORT_CLAIM_TTL_MS) return false;
  writeFileSync(file, `${process.pid}\n`); // a new mtime: claimed again
  return true;
}

/** Claims directories this process pruned already (once each: a directory holds a file per port handed out). */
const pruned = new Set<string>();

/**
 * Removes the claims older than PORT_CLAIM_TTL_MS (they hold nothing back any
 * more), so that the directory does not keep a file for every port ever
 * handed out. A file another process renews or removes meanwhile is left.
 */
export function pruneExpiredClaims(dir: string, now: number = Date.now()): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    try {
      if (now - statSync(file).mtimeMs >= PORT_CLAIM_TTL_MS) {
        unlinkSync(file);
        removed++;
      }
    } catch {
      // gone or renewed by another process: nothing to do
    }
  }
  return removed;
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago and that no freePort()
 * call of any process handed out in the last PORT_CLAIM_TTL_MS: binds port 0,
 * reads the port the kernel chose, closes, and records it (a file in
 * PORT_CLAIMS_DIR). The kernel hands a port freed a moment ago out again: a
 * test's redis-server killed while the Sentinels watching it still ran had
 * its port given to another test file's new server, and those Sentinels made
 * that server a replica of their own master, which wiped its data (a CI run
 * lost a whole queue that way). Another process may still bind the port
 * before the caller does, so callers retry on "address in use".
 */
export async function freePort(options: FreePortOptions = {}): Promise<number> {
  const dir = options.claimsDir ?? PORT_CLAIMS_DIR;
  const offer = options.offer ?? kernelPort;
  mkdirSync(dir, { recursive: true });
  if (!pruned.has(dir)) {
    pruned.add(dir);
    pruneExpiredClaims(dir);
  }
  const tried = new Set<number>();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await offer();
    if (tried.has(port)) continue;
    tried.add(port);
    if (claim(dir, port, Date.now())) return port;
  }
  throw new Error(`freePort: the kernel offered only ports handed out in the last ${PORT_CLAIM_TTL_MS / 60_000} min (${tried.size} of them; see ${dir})`);
}

/** For tests of freePort itself. */
export interface FreePortOptions {
  /** Where the claims are (default PORT_CLAIMS_DIR). */
  readonly claimsDir?: string;
  /** What offers a port (default: the kernel, for a bind to port 0). */
  readonly offer?: () => Promise<number>;
}
