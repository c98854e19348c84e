/**
 * A loopback TCP server that accepts every connection and never answers (no HTTP, no TLS handshake):
 * a hung endpoint. 127.0.0.1, ephemeral port; `close()` destroys the held sockets.
 */
import { createServer, type Socket } from 'node:net';

export interface BlackHole {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Connections still open (a client that gave up closes its socket). */
  open(): number;
  close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Read and drop what the client sends, so its hang-up is seen ('end', then 'close').
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('black hole: no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    connections: () => connections,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
