import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

/** Where and with what a bench ran: printed with the results, so numbers are never quoted without it. */
export interface Machine {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly ramGiB: number;
  readonly os: string;
  readonly node: string;
  readonly redisServer: string;
  /** Versions of the systems compared; taskq's with its git commit. */
  readonly packages: Readonly<Record<string, string>>;
}

/** The version in the package.json of `name`, found by walking up from its resolved entry. */
export function packageVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? 'unknown';
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'not installed';
  }
}

/** `abc1234`, with `+changes` when the work tree differs from it; empty outside git. */
function gitCommit(): string {
  try {
    const opts = { encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'libs'], opts).trim() !== '';
    return dirty ? `${head}+changes` : head;
  } catch {
    return '';
  }
}

export function describeMachine(redisServer: string): Machine {
  const cpuList = cpus();
  const commit = gitCommit();
  const taskq = packageVersion('@taskq/queue');
  return {
    date: new Date().toISOString(),
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    redisServer,
    packages: {
      taskq: commit ? `${taskq} (git ${commit})` : taskq,
      bullmq: packageVersion('bullmq'),
      'bee-queue': packageVersion('bee-queue'),
      ioredis: packageVersion('ioredis'),
    },
  };
}

export function machineLines(m: Machine): string[] {
  return [
    `date: ${m.date}`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os}`,
    `node ${m.node}, redis-server ${m.redisServer}`,
    `packages: ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
}
