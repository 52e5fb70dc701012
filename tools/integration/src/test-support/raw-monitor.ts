import { connect, type Socket } from 'node:net';

/**
 * MONITOR on a plain socket: each command the server runs, as its arguments.
 * ioredis's own monitor() can fail with "Command queue state error" when the
 * server's first monitor lines arrive in the same read as the MONITOR reply
 * (seen in CI on a loaded machine): the client has not switched to monitor
 * mode yet and takes the lines for replies to no command.
 */
export class RawMonitor {
  private constructor(private readonly socket: Socket) {}

  /** Connects to the `redis://host:port` URL (no password) and starts MONITOR; resolves once the server said OK. */
  static start(url: string, onCommand: (args: string[]) => void): Promise<RawMonitor> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port || 6379) });
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
            resolve(new RawMonitor(socket));
            continue;
          }
          // +<time> [<db> <client>] "CMD" "arg" ...
          onCommand([...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? ''));
        }
      });
    });
  }

  stop(): void {
    this.socket.destroy();
  }
}
