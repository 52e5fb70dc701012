/** `redis-server` is not on PATH; the message says how to install it. */
export class RedisServerNotFoundError extends Error {
  override readonly name = 'RedisServerNotFoundError';
  constructor(searchedPath: string) {
    super(
      'redis-server was not found on PATH, and taskq\'s Redis tests need it. Install it with\n' +
        '  Debian/Ubuntu: apt-get install -y redis-server   (as root, after apt-get update)\n' +
        '  macOS:         brew install redis\n' +
        `PATH searched: ${searchedPath || '(empty)'}`,
    );
  }
}
