// Launches headless Chromium the way this machine runs it (Debian's build through playwright-core,
// never `playwright install`): the browser tests and the benchmarks share these options.
import { chromium } from 'playwright-core'

/** Debian's Chromium, or the one CHROMIUM names. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'

/** A headless Chromium with the options TOOLCHAIN.md verified here. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}
