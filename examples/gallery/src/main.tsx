// The gallery app: LiveStore's store registry, then the app (which waits for the store, then for
// file sync) inside an error boundary that shows what went wrong.
import { StoreRegistry } from '@livestore/livestore'
import { StoreRegistryProvider } from '@livestore/react'
import { Component, type ReactNode, StrictMode, Suspense } from 'react'
import { createRoot } from 'react-dom/client'
import { engineMemoryBytes } from 'filesync-livestore'

import { App } from './App.tsx'
import './styles.css'

class Failure extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: undefined as unknown }
  static getDerivedStateFromError(error: unknown) {
    return { error }
  }
  override render() {
    if (this.state.error === undefined) return this.props.children
    const error = this.state.error as { message?: string; code?: string }
    return (
      <main className="shell">
        <div className="panel error-panel" role="alert">
          <h1>The gallery could not start</h1>
          <p>{error.code ? `${error.code}: ` : ''}{error.message ?? String(this.state.error)}</p>
          <button type="button" onClick={() => location.reload()}>Reload</button>
        </div>
      </main>
    )
  }
}

const registry = new StoreRegistry()

// For diagnostics (the end-to-end tests read it): the page's JS heap and the sync engine's
// WebAssembly memory, in bytes.
;(globalThis as { galleryMemory?: () => { jsHeap: number; wasm: number } }).galleryMemory = () => ({
  jsHeap: (performance as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0,
  wasm: engineMemoryBytes(),
})

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Failure>
      <StoreRegistryProvider storeRegistry={registry}>
        <Suspense fallback={<p className="loading">Opening the gallery…</p>}>
          <App />
        </Suspense>
      </StoreRegistryProvider>
    </Failure>
  </StrictMode>,
)
