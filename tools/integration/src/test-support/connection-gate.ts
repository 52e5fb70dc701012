import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis port that the test can shut: while shut,
 * new connections are accepted and dropped at once, so a client that lost
 * its connection keeps failing to reconnect until the gate opens again.
 * Connections already through are left alone (break them from the server
 * side, e.g. CLIENT KILL, or by restarting the server).
 *
 * It turns "the client is disconnected while X happens" from a race against
 * the client's reconnect timer into a state the test controls.
 */
export class ConnectionGate {
  private shutNow = false;
  private readonly sockets = new Set<Socket>();
  /** Connections dropped while shut: proof that the client tried and was kept out. */
  refused = 0;

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
  ) {}

  static async open(targetPort: number): Promise<ConnectionGate> {
    const server = createServer();
    const gate = new ConnectionGate(server, targetPort);
    server.on('connection', (socket) => gate.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
    });
    return gate;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Keep new connections out from now on. */
  shut(): void {
    this.shutNow = true;
  }

  /** Let new connections through again. */
  reopen(): void {
    this.shutNow = false;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: Socket): void {
    if (this.shutNow) {
      this.refused += 1;
      client.destroy();
      return;
    }
    const upstream = connect({ port: this.targetPort, host: '127.0.0.1' });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined); // a reset is how these connections end; close handles it
      socket.once('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
