// Generates golden wire-format fixtures for the Rust `filesync` crate from the REAL
// @livestore-filesync/core 0.8.0 schema: event args are encoded with each event's own Effect
// Schema, table rows with each table's row schema. Run: `node make-fixtures.mjs`.
import { writeFileSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Schema } from "effect"
import { createFileSyncSchema, FileSyncCursorSchema } from "@livestore-filesync/core/schema"

const here = dirname(fileURLToPath(import.meta.url))
const outDir = join(here, "..", "..", "filesync", "tests", "fixtures")
mkdirSync(outDir, { recursive: true })

const { tables, events } = createFileSyncSchema()
const t1 = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))
const t2 = new Date(Date.UTC(2026, 10, 25, 15, 45, 0, 1))
const hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

const eventSamples = {
  fileCreated: [
    { id: "f1", path: "docs/a.txt", contentHash: hash, createdAt: t1, updatedAt: t1 },
    { id: "f2", path: "b.png", contentHash: hash, metadataJson: '{"mimeType":"image/png"}', createdAt: t1, updatedAt: t2 },
    { id: "f3", path: "c", contentHash: hash, metadataJson: null, createdAt: t1, updatedAt: t2 },
  ],
  fileUpdated: [
    { id: "f1", path: "docs/a.txt", remoteKey: `store_1/${hash}`, contentHash: hash, updatedAt: t2 },
    { id: "f1", path: "docs/a.txt", remoteKey: "", contentHash: hash, metadataJson: null, updatedAt: t2 },
    { id: "f1", path: "docs/a.txt", remoteKey: "", contentHash: hash, metadataJson: "{}", updatedAt: t2 },
  ],
  fileDeleted: [{ id: "f1", deletedAt: t2 }],
  localFileStateUpsert: ["pending", "queued", "inProgress", "done", "error"].map((s, i) => ({
    fileId: `f${i}`, path: `p${i}`, localHash: i % 2 ? hash : "", downloadStatus: s, uploadStatus: s,
    lastSyncError: s === "error" ? "HTTP 500" : "",
  })),
  localFileStateRemove: [{ fileId: "f1" }],
  localFileStateClear: [{}],
}

const out = {}
for (const [key, samples] of Object.entries(eventSamples)) {
  const def = events[key]
  out[key] = { name: def.name, args: samples.map((s) => Schema.encodeSync(def.schema)(s)) }
  writeFileSync(join(outDir, `event-${key}.json`), JSON.stringify(out[key], null, 2) + "\n")
}

const rowSamples = {
  files: [
    { id: "f1", path: "docs/a.txt", remoteKey: "", contentHash: hash, metadataJson: null, createdAt: t1, updatedAt: t1, deletedAt: null },
    { id: "f2", path: "b.png", remoteKey: `store_1/${hash}`, contentHash: hash, metadataJson: '{"mimeType":"image/png"}', createdAt: t1, updatedAt: t2, deletedAt: t2 },
  ],
  localFileState: eventSamples.localFileStateUpsert,
}
for (const [key, samples] of Object.entries(rowSamples)) {
  const table = tables[key]
  const rows = samples.map((s) => Schema.encodeSync(table.rowSchema)(s))
  writeFileSync(join(outDir, `row-${key}.json`), JSON.stringify({ table: table.sqliteDef.name, rows }, null, 2) + "\n")
}

const cursor = [{ lastEventSequence: "e0", updatedAt: new Date(0) }, { lastEventSequence: "e12", updatedAt: t2 }]
writeFileSync(
  join(outDir, "doc-fileSyncCursor.json"),
  JSON.stringify({ document: "fileSyncCursor", values: cursor.map((c) => Schema.encodeSync(FileSyncCursorSchema)(c)) }, null, 2) + "\n",
)
console.log("fixtures written to", outDir)
