// A Worker that mounts @livestore-filesync/r2's signer (createR2Handler, the Cloudflare side of
// @livestore-filesync/core 0.8.0) over a local R2 bucket, the way an app would, for r2.test.mjs:
//   GET  /api/health, POST /api/v1/sign/upload | /api/v1/sign/download | /api/v1/delete
//   PUT|GET /livestore-filesync-files/{key}?exp=..&sig=..   (bytes go through the Worker into R2)
// Auth: a signer call must carry `Authorization: Bearer <FILESYNC_TOKEN>` (or X-Worker-Auth); that
// token may touch every key. FILESYNC_TOKEN and FILE_SIGNING_SECRET are given by the test as
// `wrangler dev --var` values (fresh random ones each run); FILE_BUCKET is the R2 binding.
import { composeFetchHandlers, createR2Handler, getAuthTokenFromHeaders } from '@livestore-filesync/r2'

const signer = createR2Handler({
  bucket: (env) => env.FILE_BUCKET,
  getSigningSecret: (env) => env.FILE_SIGNING_SECRET,
  // Answers the key prefixes the caller may use ([] = all), or null = unauthorized (401).
  validateAuth: async (request, env) => {
    const token = getAuthTokenFromHeaders(request.headers)
    return token !== null && token === env.FILESYNC_TOKEN ? [] : null
  },
})

export default { fetch: composeFetchHandlers(signer) }
