import { connect, type Socket } from 'node:net';
import { respCommand } from './resp';

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' };

/** Undoes MONITOR's quoting of one argument (sdscatrepr: \\ \" \n \r \t \a \b \xHH). */
export function unquote(quoted: string): string {
  return quoted.replace(/\\(x[0-9a-f]{2}|.)/g, (_m, e: string) =>
    e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : (ESCAPES[e] ?? e),
  );
}

/** One command MONITOR showed: its arguments, and whether a Lua script ran it. */
export interface MonitoredCommand {
  args: string[];
  lua: boolean;
}

/**
 * MONITOR on a plain socket: each command the server runs, as its arguments.
 * ioredis's own monitor() can fail with "Command queue state error" when the
 * server's first monitor lines arrive in the same read as the MONITOR reply
 * (seen in CI on a loaded machine): the client has not switched to monitor
 * mode yet and takes the lines for replies to no command.
 */
export class RawMonitor {
  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
    private readonly seen: MonitoredCommand[],
  ) {}

  /**
   * Connects to the `redis://host:port` URL (no password) and starts MONITOR; resolves once the server said OK.
   * Every command is kept (see `commands`) and also passed to `onCommand` when given.
   */
  static start(url: string, onCommand?: (args: string[], lua: boolean) => void): Promise<RawMonitor> {
    const { hostname, port: portText } = new URL(url);
    const port = Number(portText || 6379);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port });
      const seen: MonitoredCommand[] = [];
      let buffer = '';
      let started = false;
      socket.setEncoding('utf8');
      socket.once('error', reject);
      socket.on('connect', () => socket.write('MONITOR\r\n'));
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\r\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!started) {
            if (line !== '+OK') return reject(new Error(`MONITOR refused: ${line}`));
            started = true;
            resolve(new RawMonitor(socket, port, seen));
            continue;
          }
          // +<time> [<db> <client>] "CMD" "arg" ...   (<client> is "lua" for a script's own calls)
          const lua = /^\+\S+ \[\d+ lua\]/.test(line);
          const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => unquote(m[1] ?? ''));
          seen.push({ args, lua });
          onCommand?.(args, lua);
        }
      });
    });
  }

  /** What MONITOR showed so far. */
  get commands(): readonly MonitoredCommand[] {
    return this.seen;
  }

  /**
   * Resolves once every command the server ran before this call has been seen:
   * MONITOR lags the commands, so an ECHO marker is sent after them and waited for.
   */
  async settle(timeoutMs = 5000): Promise<void> {
    const marker = `monitor-marker-${process.pid}-${Math.random()}`;
    await respCommand(this.port, ['ECHO', marker]);
    const deadline = Date.now() + timeoutMs;
    const isMarker = (c: MonitoredCommand): boolean => c.args[0]?.toLowerCase() === 'echo' && c.args[1] === marker;
    while (!this.seen.some(isMarker)) {
      if (Date.now() > deadline) throw new Error(`MONITOR did not show the marker within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  stop(): void {
    this.socket.destroy();
  }
}

/**
 * The commands the server ran while `body` ran (and until they have all been seen),
 * excluding the monitor's own marker.
 */
export async function monitored(url: string, body: () => Promise<void>): Promise<MonitoredCommand[]> {
  const monitor = await RawMonitor.start(url);
  try {
    await body();
    await monitor.settle();
    return monitor.commands.filter((c) => !(c.args[0]?.toLowerCase() === 'echo' && c.args[1]?.startsWith('monitor-marker-')));
  } finally {
    monitor.stop();
  }
}
