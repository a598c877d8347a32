/** Ports from the OS, so test files running in parallel never pick the same one. */
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: binds port 0, reads the port the OS chose,
 * and closes. For a child process that must be told its port (redis-server --port); a server of
 * the test's own should listen on port 0 itself and read its address instead.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close(() => reject(new Error(`expected a TCP address, got ${String(address)}`)));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
