// A loopback HTTP proxy in front of a server that forwards signer calls but holds every blob
// upload (PUT) without answering: an upload through it stays in flight until the test stops.
import { request as httpRequest, createServer } from 'node:http'

/** Starts the proxy in front of `origin`; answers `{ url (signer base), uploads(), stop() }`. */
export async function startStallingProxy(origin) {
  const target = new URL(origin)
  let uploadsSeen = 0
  const held = new Set()
  const server = createServer((req, res) => {
    if (req.method === 'PUT') {
      uploadsSeen += 1
      held.add(res)
      req.resume()
      return
    }
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
    url: `http://127.0.0.1:${port}/api`,
    uploads: () => uploadsSeen,
    async stop() {
      for (const res of held) res.destroy()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}
