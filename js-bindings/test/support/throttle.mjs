// A loopback HTTP proxy in front of a server that slows blob transfers down: signer calls pass at
// once; blob bodies (PUT requests, GET answers) pass at `bytesPerSecond` (Infinity: unthrottled)
// and are counted, so a test can tell how many bytes a transfer moved and interrupt it half-way.
// Signed URLs point at the proxy, since the server signs them for the Host it was asked on.
import { request as httpRequest, createServer } from 'node:http'
import { Transform } from 'node:stream'

/** A stream that lets bytes through at the rate `rate()` answers, counting them in `counter`. */
function paced(rate, count) {
  return new Transform({
    transform(chunk, _encoding, done) {
      count(chunk.length)
      const bps = rate()
      if (!Number.isFinite(bps)) return done(null, chunk)
      // Small slices keep the pace even, and let a reload cut a transfer mid-way.
      const slice = Math.max(4096, Math.floor(bps / 20))
      let at = 0
      const next = () => {
        if (at >= chunk.length) return done()
        const part = chunk.subarray(at, at + slice)
        at += part.length
        this.push(part)
        setTimeout(next, (part.length / bps) * 1000)
      }
      next()
    },
  })
}

const isBlob = (req) => !req.url.startsWith('/api/')

/**
 * Starts the proxy in front of `origin`; answers `{ url (signer base), setRate(bps), sent(method),
 * stop() }`: `sent('PUT')` is the upload bytes that went through, `sent('GET')` the download bytes.
 */
export async function startThrottlingProxy(origin, bytesPerSecond = Infinity) {
  const target = new URL(origin)
  let bps = bytesPerSecond
  const sent = { GET: 0, PUT: 0 }
  const sockets = new Set()
  const server = createServer((req, res) => {
    const blob = isBlob(req)
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        if (blob && req.method === 'GET') {
          answer.pipe(paced(() => bps, (n) => (sent.GET += n))).pipe(res)
        } else {
          answer.pipe(res)
        }
      },
    )
    upstream.on('error', () => res.destroy())
    req.on('error', () => upstream.destroy())
    res.on('close', () => upstream.destroy())
    if (blob && req.method === 'PUT') req.pipe(paced(() => bps, (n) => (sent.PUT += n))).pipe(upstream)
    else req.pipe(upstream)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}/api`,
    /** Changes the pace (bytes per second; Infinity: unthrottled). */
    setRate(rate) {
      bps = rate
    },
    /** Body bytes that went through: `'PUT'` uploads, `'GET'` downloads. */
    sent: (method) => sent[method],
    async stop() {
      for (const socket of sockets) socket.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}
