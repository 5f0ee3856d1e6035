// A fetch-based XMLHttpRequest stand-in for Node (which has none).
//
// @livestore-filesync/core 0.8.0 uploads only through XMLHttpRequest (its FileSync always passes
// an onProgress callback, which selects the XHR path), so a 0.8.0 app in Node needs one. It is a
// global: our package, running in the same process, sees it too and then uploads through it as it
// does in browsers (its Rust remote uses XHR whenever the scope has one, fetch otherwise). So the
// stand-in covers what both clients touch: open, setRequestHeader, send(ArrayBuffer | Blob),
// abort, upload.onprogress, onprogress, onload/onerror/onabort/ontimeout, status, responseText,
// getResponseHeader. Upload progress is reported once, when the whole body is sent.

export class FetchXhr {
  /** `METHOD url` of every request opened, in order. */
  static opened = []

  constructor() {
    this.upload = { onprogress: null }
    this.onprogress = null
    this.onload = null
    this.onerror = null
    this.onabort = null
    this.ontimeout = null
    this.readyState = 0
    this.status = 0
    this.responseText = ''
    this.timeout = 0
    this._headers = {}
    this._response = null
    this._done = false
    this._controller = new AbortController()
  }

  open(method, url) {
    FetchXhr.opened.push(`${method} ${url}`)
    this._method = method
    this._url = url
    this.readyState = 1
  }

  setRequestHeader(name, value) {
    this._headers[name] = value
  }

  getResponseHeader(name) {
    return this._response ? this._response.headers.get(name) : null
  }

  getAllResponseHeaders() {
    if (!this._response) return ''
    return [...this._response.headers].map(([k, v]) => `${k}: ${v}\r\n`).join('')
  }

  abort() {
    if (this._done) return
    this._done = true
    this._controller.abort()
    this.readyState = 4
    this.onabort?.({ type: 'abort' })
  }

  send(body) {
    const size = body?.byteLength ?? body?.size ?? 0
    fetch(this._url, {
      method: this._method,
      headers: this._headers,
      body: body ?? undefined,
      signal: this._controller.signal,
    }).then(
      async (response) => {
        const text = await response.text()
        if (this._done) return
        this.upload.onprogress?.({ type: 'progress', lengthComputable: true, loaded: size, total: size })
        this._response = response
        this.status = response.status
        this.responseText = text
        this.readyState = 4
        this._done = true
        this.onload?.({ type: 'load' })
      },
      () => {
        if (this._done) return
        this._done = true
        this.readyState = 4
        this.onerror?.({ type: 'error' })
      },
    )
  }
}

/** Installs the stand-in as the global XMLHttpRequest; answers a function that removes it. */
export function installXhr() {
  const had = 'XMLHttpRequest' in globalThis
  const previous = globalThis.XMLHttpRequest
  globalThis.XMLHttpRequest = FetchXhr
  return () => {
    if (had) globalThis.XMLHttpRequest = previous
    else delete globalThis.XMLHttpRequest
  }
}
