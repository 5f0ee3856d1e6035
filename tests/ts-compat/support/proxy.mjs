// A loopback HTTP proxy in front of our server that records every request (method and path) and
// can play an unreachable remote: while `down`, it drops each connection without an answer.
// Signed blob URLs point at the proxy too (the server signs them for the Host it was asked on), so
// blob transfers pass through it and are counted.
import { createServer, request as httpRequest } from 'node:http'

/** Starts a proxy in front of `origin` (e.g. `http://127.0.0.1:8787`). */
export async function startProxy(origin) {
  const target = new URL(origin)
  const seen = []
  let down = false
  const server = createServer((req, res) => {
    if (down) {
      seen.push({ method: req.method, path: req.url, dropped: true })
      req.socket.destroy()
      return
    }
    seen.push({ method: req.method, path: req.url })
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  return {
    /** The signer base URL through the proxy. */
    url: `http://127.0.0.1:${port}/api`,
    /** Every request so far: `{ method, path, dropped? }`. */
    requests: () => [...seen],
    /** Requests for blobs (the signed URLs under /livestore-filesync-files/), by method. */
    blobRequests: (method) =>
      seen.filter((r) => !r.dropped && r.path.startsWith('/livestore-filesync-files/') && (!method || r.method === method)),
    reset: () => {
      seen.length = 0
    },
    setDown(value) {
      down = value
      if (value) server.closeAllConnections()
    },
    async stop() {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}
