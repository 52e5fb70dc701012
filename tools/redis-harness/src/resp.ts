import { connect } from 'node:net';

/** A reply of the subset of RESP2 the harness needs: simple strings, integers, bulk strings. */
export type RespReply = string | number | null;

/** Redis answered with an error reply (`-ERR ...`, `-LOADING ...`). */
export class RespErrorReply extends Error {
  override readonly name = 'RespErrorReply';
}

function encode(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/** Parses one reply from `buf`; undefined while it is incomplete. `used`: the bytes it took. */
function parse(buf: Buffer): ({ reply: RespReply } | { error: string }) & { used: number } | undefined {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return undefined;
  const head = buf.toString('utf8', 1, eol);
  switch (String.fromCharCode(buf[0] ?? 0)) {
    case '+':
      return { reply: head, used: eol + 2 };
    case '-':
      return { error: head, used: eol + 2 };
    case ':':
      return { reply: Number(head), used: eol + 2 };
    case '$': {
      const len = Number(head);
      if (len < 0) return { reply: null, used: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { reply: buf.toString('utf8', eol + 2, eol + 2 + len), used: eol + 2 + len + 2 };
    }
    default:
      throw new Error(`unsupported RESP reply: ${JSON.stringify(buf.toString('utf8', 0, 80))}`);
  }
}

/**
 * Sends one command to the Redis at 127.0.0.1:`port` on a fresh connection
 * and returns its reply. Rejects with the socket error (ECONNREFUSED while
 * the server is not listening), RespErrorReply, or a timeout error.
 */
export async function respCommand(port: number, args: readonly string[], timeoutMs = 1000): Promise<RespReply> {
  const [reply] = await respCommands(port, [args], timeoutMs);
  return reply ?? null;
}

/**
 * Sends commands to the Redis at 127.0.0.1:`port` on one fresh connection, in
 * order, and returns their replies: for what is per connection, such as WAIT
 * (it waits for the replicas to acknowledge this connection's writes; on a
 * connection that wrote nothing it returns at once). Rejects as respCommand,
 * on the first error reply.
 */
export function respCommands(port: number, commands: readonly (readonly string[])[], timeoutMs = 1000): Promise<RespReply[]> {
  const what = commands.map((c) => c[0]).join(', ');
  return new Promise((resolve, reject) => {
    const replies: RespReply[] = [];
    let buf = Buffer.alloc(0);
    let settled = false;
    const socket = connect({ port, host: '127.0.0.1' });
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no reply to ${what} from 127.0.0.1:${port} within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(Buffer.concat(commands.map((c) => encode(c)))));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        let parsed: ReturnType<typeof parse>;
        try {
          parsed = parse(buf);
        } catch (err) {
          finish(() => reject(err));
          return;
        }
        if (parsed === undefined) return;
        buf = buf.subarray(parsed.used);
        if ('error' in parsed) {
          const message = parsed.error;
          finish(() => reject(new RespErrorReply(message)));
          return;
        }
        replies.push(parsed.reply);
        if (replies.length === commands.length) {
          finish(() => resolve(replies));
          return;
        }
      }
    });
    socket.once('error', (err) => finish(() => reject(err)));
    socket.once('close', () =>
      finish(() => reject(new Error(`connection to 127.0.0.1:${port} closed before a reply to ${what}`))),
    );
  });
}
