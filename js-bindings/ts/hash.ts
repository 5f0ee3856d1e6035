/**
 * `hashFile`: the SHA-256 of a file's bytes, as the engine names content (64 lowercase hex digits).
 *
 * @module
 */
import { hashBlob, loadEngine } from './wasm.js'

/**
 * Up to this size `hashFile` hashes with WebCrypto (`crypto.subtle.digest`), which reads the whole
 * file into memory first; above it, the engine's streaming hasher reads it chunk by chunk, so a
 * large file never sits whole in memory (slower: see the package README's figures). The engine
 * itself reads files whole, and hashes them with WebCrypto, up to the same size.
 */
export const WEBCRYPTO_HASH_MAX_BYTES = 8 * 1024 * 1024

const hex = (digest: ArrayBuffer): string =>
  Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * The SHA-256 of `file`'s bytes as 64 lowercase hex digits: the `contentHash` a save of the same
 * bytes records. WebCrypto up to {@link WEBCRYPTO_HASH_MAX_BYTES} (where it is available: secure
 * contexts and Node), streamed above.
 */
export async function hashFile(file: Blob): Promise<string> {
  if (!(file instanceof Blob)) throw new TypeError('hashFile needs a File or a Blob')
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle
  if (subtle && file.size <= WEBCRYPTO_HASH_MAX_BYTES) {
    return hex(await subtle.digest('SHA-256', await file.arrayBuffer()))
  }
  await loadEngine()
  return hashBlob(file)
}
