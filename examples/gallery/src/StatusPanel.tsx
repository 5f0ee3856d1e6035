// The sync panel: counts of what moves and waits, the file server online or offline, the LiveStore
// sync backend connected or not, storage used of the quota, and the two switches (pause file sync
// as if offline; local-only).
import { useStore } from '@livestore/react'
import { Effect } from 'effect'
import { useFileSync, useSyncStatus } from 'filesync-livestore/react'
import { useEffect, useState } from 'react'

import { formatBytes } from './format.ts'
import { galleryStore } from './store.ts'

/** Whether the store's leader is connected to the LiveStore sync backend (checked every second). */
function useBackendConnected(): boolean {
  const store = useStore(galleryStore)
  const [connected, setConnected] = useState(false)
  useEffect(() => {
    let live = true
    const check = () =>
      Effect.runPromise(store.networkStatus.get).then(
        (status) => live && setConnected(status.isConnected),
        () => live && setConnected(false),
      )
    void check()
    const timer = setInterval(check, 1000)
    return () => {
      live = false
      clearInterval(timer)
    }
  }, [store])
  return connected
}

export function StatusPanel({ localOnly, onLocalOnly }: { localOnly: boolean; onLocalOnly: (on: boolean) => void }) {
  const fileSync = useFileSync()
  const status = useSyncStatus()
  const backend = useBackendConnected()
  const [online, setOnline] = useState(() => fileSync.isOnline())
  const [paused, setPaused] = useState(false)
  const [leader, setLeader] = useState(() => fileSync.isLeader())
  const [usage, setUsage] = useState<{ usage: number; quota: number } | null>(null)

  useEffect(() => {
    const refresh = () => {
      setOnline(fileSync.isOnline())
      fileSync.getStorageUsage().then(setUsage, () => setUsage(null))
    }
    refresh()
    const off = fileSync.onEvent((e) => {
      setLeader(fileSync.isLeader())
      if (e.type === 'online' || e.type === 'offline' || e.type.endsWith(':complete')) refresh()
    })
    const timer = setInterval(refresh, 5000)
    // Which tab of this browser moves the bytes changes when the leading tab closes.
    const role = setInterval(() => setLeader(fileSync.isLeader()), 1000)
    return () => {
      off()
      clearInterval(timer)
      clearInterval(role)
    }
  }, [fileSync])

  const connection = localOnly ? 'Local only' : paused ? 'Paused' : online ? 'Online' : 'Offline'
  return (
    <section className="panel status" aria-label="Sync status">
      <p className={`connection connection-${connection.toLowerCase().replace(' ', '-')}`} data-testid="connection">
        {connection}
      </p>
      <dl>
        <div>
          <dt>Store sync</dt>
          <dd data-testid="store-sync">{backend ? 'Connected' : 'Connecting…'}</dd>
        </div>
        <div>
          <dt>Uploading</dt>
          <dd data-testid="uploading">{status.uploadingCount + status.queuedUploadCount}</dd>
        </div>
        <div>
          <dt>Downloading</dt>
          <dd data-testid="downloading">{status.downloadingCount + status.queuedDownloadCount}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd data-testid="errors">{status.errorCount}</dd>
        </div>
        <div>
          <dt>Transfers in</dt>
          <dd data-testid="role" title="One tab per browser uploads and downloads; the others save and show">
            {leader ? 'This tab' : 'Another tab'}
          </dd>
        </div>
        <div>
          <dt>Storage</dt>
          <dd>{usage ? `${formatBytes(usage.usage)} of ${formatBytes(usage.quota)}` : '–'}</dd>
        </div>
      </dl>
      <div className="switches">
        <label>
          <input
            type="checkbox"
            checked={paused}
            disabled={localOnly}
            onChange={(e) => {
              const pause = e.target.checked
              setPaused(pause)
              void (pause ? fileSync.stop() : fileSync.start())
            }}
          />
          Go offline
        </label>
        <label>
          <input type="checkbox" checked={localOnly} onChange={(e) => onLocalOnly(e.target.checked)} />
          Local only
        </label>
      </div>
    </section>
  )
}
