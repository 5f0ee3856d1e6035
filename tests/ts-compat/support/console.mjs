// Records what is logged through console.* (LiveStore's logger writes there) while still printing it.

/** Starts recording; answers `{ lines, stop() }`. */
export function captureConsole() {
  const lines = []
  const saved = {}
  for (const name of ['log', 'info', 'warn', 'error', 'debug']) {
    saved[name] = console[name]
    console[name] = (...args) => {
      lines.push(args.map(String).join(' '))
      saved[name](...args)
    }
  }
  return {
    lines,
    stop: () => Object.assign(console, saved),
  }
}
