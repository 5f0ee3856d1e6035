// The direct-JavaScript side of the fs-opfs benchmark: the same OPFS operations fs-opfs performs,
// written by hand, run in the same page or worker. Every function takes the directory handle of
// its round (resolved before the clock starts, as fs-opfs caches its directory handles) and the
// source bytes as a Uint8Array in JavaScript memory (copied once, before any measurement).

/** Milliseconds from the page's or the worker's `performance` clock. */
export function now() {
  return performance.now();
}

/** The directory handle at `path` ("a/b/c") below the OPFS root, created when missing. */
export async function dirAt(path) {
  let dir = await navigator.storage.getDirectory();
  for (const name of path.split("/").filter((s) => s.length > 0)) {
    dir = await dir.getDirectoryHandle(name, { create: true });
  }
  return dir;
}

/** Runs `task(i)` for i in 0..count with at most `inFlight` tasks pending at a time. */
async function pool(count, inFlight, task) {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  const lanes = [];
  for (let k = 0; k < Math.min(inFlight, count); k++) lanes.push(lane());
  await Promise.all(lanes);
}

/** Throws unless `got` (an ArrayBuffer) holds the same bytes as `want` (a Uint8Array). */
function check(got, want, what) {
  const bytes = new Uint8Array(got);
  if (bytes.length !== want.length) {
    throw new Error(`${what}: read ${bytes.length} bytes, wrote ${want.length}`);
  }
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== want[i]) throw new Error(`${what}: byte ${i} differs`);
  }
}

/** One file through `createWritable` of the file itself: write in `chunk`-byte pieces, close. */
async function writeWritable(dir, name, bytes, chunk) {
  const handle = await dir.getFileHandle(name, { create: true });
  const stream = await handle.createWritable();
  for (let at = 0; at < bytes.length; at += chunk) {
    await stream.write(bytes.subarray(at, Math.min(at + chunk, bytes.length)));
  }
  await stream.close();
}

/** Writes `bytes` into the file `handle` through a sync access handle (`chunk`-byte writes at
 * explicit offsets, flush, close). */
function fillSyncAccess(access, bytes, chunk) {
  try {
    for (let at = 0; at < bytes.length; at += chunk) {
      const piece = bytes.subarray(at, Math.min(at + chunk, bytes.length));
      const n = access.write(piece, { at });
      if (n !== piece.length) throw new Error(`short write: ${n} of ${piece.length}`);
    }
    access.flush();
  } finally {
    access.close();
  }
}

/**
 * One file through a sync access handle of a temporary file in `tempDir`, then `move()` over the
 * name in `dir`: what fs-opfs's `write_file` does in a dedicated worker.
 */
async function writeSyncAccess(dir, tempDir, name, bytes, chunk) {
  const temp = await tempDir.getFileHandle(`js-${name}.tmp`, { create: true });
  fillSyncAccess(await temp.createSyncAccessHandle(), bytes, chunk);
  await temp.move(dir, name);
}

/** Writes one small file the way `mode` says ("writable" or "sync-access"). */
function writeOne(mode, dir, tempDir, name, bytes, chunk) {
  return mode === "sync-access"
    ? writeSyncAccess(dir, tempDir, name, bytes, chunk)
    : writeWritable(dir, name, bytes, chunk);
}

/**
 * The large write, as fs-opfs's `write_sink` does it: a temporary file in a separate directory
 * (through a sync access handle in a worker, else a writable stream, `chunk`-byte writes), moved
 * over `name` at the end.
 */
export async function writeLarge(mode, dir, name, data, chunk) {
  const tempDir = await dir.getDirectoryHandle("js-temp", { create: true });
  const temp = await tempDir.getFileHandle(`js-${name}.tmp`, { create: true });
  if (mode === "sync-access") {
    fillSyncAccess(await temp.createSyncAccessHandle(), data, chunk);
  } else {
    const stream = await temp.createWritable();
    for (let at = 0; at < data.length; at += chunk) {
      await stream.write(data.subarray(at, Math.min(at + chunk, data.length)));
    }
    await stream.close();
  }
  await temp.move(dir, name);
}

/**
 * The large read: `getFile()`, then `Blob.slice(at, at + batch).arrayBuffer()` batch after batch
 * (fs-opfs's `read_stream` pattern). Returns the bytes read; with `expect`, checks them.
 */
export async function readLarge(dir, name, batch, expect) {
  const file = await (await dir.getFileHandle(name)).getFile();
  let total = 0;
  for (let at = 0; at < file.size; at += batch) {
    const buffer = await file.slice(at, Math.min(at + batch, file.size)).arrayBuffer();
    if (expect) check(buffer, expect.subarray(at, at + buffer.byteLength), name);
    total += buffer.byteLength;
  }
  return total;
}

/**
 * The small-file write: file `prefix + i` gets `data[offsets[i] .. offsets[i] + size]`, one
 * write each, at most `inFlight` files pending.
 */
export async function writeSmall(mode, dir, prefix, data, offsets, size, inFlight) {
  const tempDir = await dir.getDirectoryHandle("js-temp", { create: true });
  await pool(offsets.length, inFlight, (i) =>
    writeOne(mode, dir, tempDir, `${prefix}${i}`, data.subarray(offsets[i], offsets[i] + size), size),
  );
}

/**
 * The small-file read: `getFileHandle`, `getFile()`, `arrayBuffer()` of each file (fs-opfs's
 * `read_file`), at most `inFlight` pending. Returns the bytes read; with `check_data`, compares
 * them with the slices `writeSmall` wrote.
 */
export async function readSmall(dir, prefix, count, inFlight, checkData, offsets, size) {
  let total = 0;
  await pool(count, inFlight, async (i) => {
    const file = await (await dir.getFileHandle(`${prefix}${i}`)).getFile();
    const buffer = await file.arrayBuffer();
    if (checkData) check(buffer, checkData.subarray(offsets[i], offsets[i] + size), `${prefix}${i}`);
    total += buffer.byteLength;
  });
  return total;
}
