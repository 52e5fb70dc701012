import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { useRealServer } from './mock-redis';

// setupFilesAfterEach of the "real redis-server" jest project: a private
// redis-server for each test file (never the one on 6379), which mockRedis()
// then returns connections to.
let server: RedisServer | undefined;

beforeAll(async () => {
  server = await startRedisServer();
  useRealServer(server.url);
}, 20_000);

afterAll(async () => {
  useRealServer(undefined);
  await server?.stop();
});
