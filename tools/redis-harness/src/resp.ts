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

/** Parses one reply from `buf`; undefined while it is incomplete. */
function parse(buf: Buffer): { reply: RespReply } | { error: string } | undefined {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return undefined;
  const head = buf.toString('utf8', 1, eol);
  switch (String.fromCharCode(buf[0] ?? 0)) {
    case '+':
      return { reply: head };
    case '-':
      return { error: head };
    case ':':
      return { reply: Number(head) };
    case '$': {
      const len = Number(head);
      if (len < 0) return { reply: null };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { reply: buf.toString('utf8', eol + 2, eol + 2 + len) };
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
export function respCommand(port: number, args: readonly string[], timeoutMs = 1000): Promise<RespReply> {
  return new Promise((resolve, reject) => {
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
      () => finish(() => reject(new Error(`no reply to ${args[0]} from 127.0.0.1:${port} within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(encode(args)));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let parsed: ReturnType<typeof parse>;
      try {
        parsed = parse(buf);
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      if (parsed === undefined) return;
      if ('error' in parsed) {
        const message = parsed.error;
        finish(() => reject(new RespErrorReply(message)));
      } else {
        const reply = parsed.reply;
        finish(() => resolve(reply));
      }
    });
    socket.once('error', (err) => finish(() => reject(err)));
    socket.once('close', () =>
      finish(() => reject(new Error(`connection to 127.0.0.1:${port} closed before a reply to ${args[0]}`))),
    );
  });
}
