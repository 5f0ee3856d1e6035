// Pages of the browser test app (test/browser/dist, served by support/static.mjs) in Chromium.

/**
 * Opens `url` in `context` and answers the page once its `#status` says `ready` (the store and
 * file sync are up). `page.problems` collects the page's uncaught errors and the warnings React
 * and Vue log (PAGE_STACKS=1 prints the errors' stacks).
 */
export async function openPage(context, url) {
  const page = await context.newPage()
  const errors = []
  const problems = []
  page.on('pageerror', (e) => {
    errors.push(e)
    problems.push(String(e))
    if (process.env.PAGE_STACKS) console.log(e.stack)
  })
  page.on('console', (message) => {
    const text = message.text()
    if (/\[Vue warn\]/.test(text) || (message.type() === 'error' && /React|component|hook/i.test(text))) problems.push(text)
  })
  page.problems = problems
  await page.goto(url)
  await waitReady(page, () => `${url} did not start: ${errors.map(String).join('; ')}`)
  return page
}

/** Waits until the app in `page` says `ready` again (after a reload); fails with `why()` or the timeout. */
export async function waitReady(page, why = () => '') {
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 60_000 }).catch((e) => {
    throw new Error(why() || `the app did not start: ${e.message}`)
  })
}

/** Waits until `fn(arg)` is truthy in `page` (polling every 50 ms); fails naming `what`. */
export const poll = (page, what, fn, arg, timeout = 30_000) =>
  page.waitForFunction(fn, arg, { timeout, polling: 50 }).catch((e) => {
    throw new Error(`timed out waiting for ${what}: ${e.message}`)
  })
