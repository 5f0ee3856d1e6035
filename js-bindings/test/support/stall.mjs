// A loopback HTTP proxy in front of a server: it forwards signer calls at once but holds every
// blob upload (PUT), body and all, until `release()` (then it forwards them and every later one)
// or until it stops (then they fail). Signed URLs point at the proxy, since the server signs them
// for the Host it was asked on.
import { request as httpRequest, createServer } from 'node:http'

/** Starts the proxy in front of `origin`; answers `{ url (signer base), uploads(), waiting(), hold(), release(), stop() }`. */
export async function startStallingProxy(origin) {
  const target = new URL(origin)
  let uploadsSeen = 0
  let holding = true
  const held = []
  const forward = (req, res, body) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    if (body === undefined) req.pipe(upstream)
    else upstream.end(body)
  }
  const server = createServer((req, res) => {
    if (req.method !== 'PUT' || !holding) return forward(req, res)
    uploadsSeen += 1
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => held.push({ req, res, body: Buffer.concat(chunks) }))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}/api`,
    uploads: () => uploadsSeen,
    /** Uploads whose whole body arrived and wait. */
    waiting: () => held.length,
    /** Holds uploads again from now on. */
    hold() {
      holding = true
    },
    release() {
      holding = false
      for (const { req, res, body } of held.splice(0)) forward(req, res, body)
    },
    async stop() {
      for (const { res } of held.splice(0)) res.destroy()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}
