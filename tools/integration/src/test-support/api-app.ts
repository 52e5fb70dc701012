import { AppProcess, line } from './app-process';
import { testRedisUrl } from './redis-fixture';

/** The API app started by startApi(), and a way to call it. */
export interface Api {
  readonly proc: AppProcess;
  readonly base: string;
  call(method: string, path: string, options?: { body?: unknown; token?: string; raw?: string }): Promise<{ status: number; json: Record<string, unknown>; headers: Headers; text: string }>;
}

/** Starts the built API app (`apps/api/dist/main.js`) on a free port against the run's redis-server (unless `args` name another); resolves once it listens. */
export async function startApi(args: string[] = [], env: Record<string, string> = {}): Promise<Api> {
  const redis = args.includes('--redis') ? [] : ['--redis', testRedisUrl()];
  const proc = AppProcess.start('api', ['--port', '0', ...redis, ...args], { env });
  const ready = await proc.waitForLine(line.msgStarts('API on http://'), 'the API-ready line', 20_000);
  const base = /^API on (http:\/\/\S+)/.exec(ready.msg)?.[1] ?? '';
  return {
    proc,
    base,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
      if (options.token) headers['authorization'] = `Bearer ${options.token}`;
      const res = await fetch(`${base}${path}`, { method, headers, body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // a text reply (health checks)
      }
      return { status: res.status, json, headers: res.headers, text };
    },
  };
}
