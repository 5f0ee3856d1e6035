// Launches headless Chromium the way this machine runs it (Debian's build through playwright-core,
// never `playwright install`): the browser tests and the benchmarks share these options.
import { chromium } from 'playwright-core'

/** Debian's Chromium, or the one CHROMIUM names. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'

/** A headless Chromium with the options TOOLCHAIN.md verified here. */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS })
}

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

/**
 * Chromium with a profile on disk in `userDataDir` (a BrowserContext; close it to stop the
 * browser). The contexts of {@link launchChromium} are incognito: Chromium keeps their OPFS in the
 * browser process's memory, so memory measurements of large files need this one.
 */
export function launchPersistentChromium(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: ARGS })
}

/**
 * The memory of every Chromium process this Node process started (Linux /proc): bytes of
 * proportional set size (shared pages split between the processes sharing them), summed, and per
 * process by its `--type` (`browser` for the main process). Blob data lives in the browser
 * process, page memory in the renderers.
 */
export async function chromiumMemory() {
  const { readdir, readFile } = await import('node:fs/promises')
  const procs = new Map()
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      procs.set(Number(name), ppid)
    } catch {
      // gone meanwhile
    }
  }
  const ours = (pid) => {
    for (let p = procs.get(pid), hops = 0; p !== undefined && hops < 64; p = procs.get(p), hops++) {
      if (p === process.pid) return true
    }
    return false
  }
  let total = 0
  const byType = {}
  for (const pid of procs.keys()) {
    if (!ours(pid)) continue
    try {
      // Chromium rewrites its children's titles: their arguments are one space-separated string.
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split(/[\0 ]/)
      if (!/chrom/i.test(cmdline[0] ?? '')) continue
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8')
      const pss = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024
      const type = cmdline.find((a) => a.startsWith('--type='))?.slice(7) ?? 'browser'
      total += pss
      byType[type] = (byType[type] ?? 0) + pss
    } catch {
      // gone meanwhile
    }
  }
  return { total, byType }
}

/**
 * Runs `work`, sampling {@link chromiumMemory} every 100 ms; answers `[work's result, peak growth of
 * the total above the memory before it, in bytes]` (the benchmarks' memory column).
 */
export async function peakGrowthDuring(work) {
  const before = (await chromiumMemory()).total
  let peak = 0
  let running = true
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, (await chromiumMemory()).total - before)
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  try {
    return [await work(), peak]
  } finally {
    running = false
    await sampler
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * The memory of `page` now, in bytes: what `inPage` (a function evaluated in the page) answers as
 * `{ jsHeap, wasm }`, and every Chromium process ({@link chromiumMemory}): `processes` in all, and
 * `process:<type>` per type (`process:browser`, `process:renderer`, ...).
 */
export async function pageMemory(page, inPage) {
  const [mine, processes] = await Promise.all([page.evaluate(inPage), chromiumMemory()])
  const out = { jsHeap: mine.jsHeap, wasm: mine.wasm, processes: processes.total }
  for (const [type, bytes] of Object.entries(processes.byType)) out[`process:${type}`] = bytes
  return out
}

/** {@link pageMemory} right after a forced garbage collection in `page`. */
export async function collectedMemory(page, inPage) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('HeapProfiler.collectGarbage')
  await cdp.detach()
  await sleep(200)
  return pageMemory(page, inPage)
}

/**
 * Runs `work` while sampling {@link pageMemory} every 100 ms, every other sample right after a
 * forced garbage collection; answers the growth above the memory before it (after a GC): `peak`
 * (any sample) and `held` (after a GC, and once more at the end): what is still held, without the
 * garbage not collected yet.
 */
export async function memoryDuring(page, inPage, work) {
  const base = await collectedMemory(page, inPage)
  const cdp = await page.context().newCDPSession(page)
  const peak = {}
  const held = {}
  const note = (into, now) => {
    for (const key of Object.keys(now)) into[key] = Math.max(into[key] ?? 0, now[key] - (base[key] ?? 0))
  }
  let running = true
  const sampler = (async () => {
    for (let i = 0; running; i++) {
      const gc = i % 2 === 1
      if (gc) await cdp.send('HeapProfiler.collectGarbage').catch(() => {})
      const now = await pageMemory(page, inPage).catch(() => undefined)
      if (now) note(peak, now)
      if (now && gc) note(held, now)
      await sleep(100)
    }
  })()
  try {
    await work()
  } finally {
    running = false
    await sampler
    await cdp.detach().catch(() => {})
  }
  note(held, await collectedMemory(page, inPage))
  return { peak, held }
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** One line of {@link memoryDuring}'s figures: wasm, JS heap, all processes, renderers, browser. */
export const memoryFigures = (m) =>
  `wasm ${mib(m.wasm)}, JS heap ${mib(m.jsHeap)}, all Chromium processes ${mib(m.processes)} (renderers ${mib(m['process:renderer'] ?? 0)}, browser ${mib(m['process:browser'] ?? 0)})`

