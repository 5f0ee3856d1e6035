/**
 * What the React and Vue providers share: their props as {@link InitFileSyncConfig}, and the key
 * that says when they must make a new instance.
 *
 * @internal
 */
import type { Store } from '@livestore/livestore'

import type { FileSync, FileSyncOptions, FileSystemOption, RemoteOptions } from './filesync.js'
import type { TransferProgress } from './live.js'
import type { InitFileSyncConfig } from './singleton.js'

/** The props both `FileSyncProvider`s take besides the store (0.8.0's example props, then every
 * other `initFileSync` setting). */
export interface ProviderSettings {
  /** The signer's base URL (default `"/api"`). */
  readonly signerBaseUrl?: string | undefined
  /** No remote at all (`remote: false`): files stay on this device. */
  readonly localOnly?: boolean | undefined
  /** Extra headers for every signer call, read when the instance is made. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Called when the instance is made; its headers are added to `headers` (0.8.0's
   * `authHeaders`). For credentials that change, use `authToken`. */
  readonly authHeaders?: (() => Readonly<Record<string, string>>) | undefined
  /** The Bearer token: a string or a getter. Read before every signer call, so a new value (a
   * changed prop, a refreshed token) is used without making a new instance. */
  readonly authToken?: RemoteOptions['authToken'] | undefined
  /** Send cookies to the signer (`credentials: "include"`). */
  readonly includeCredentials?: boolean | undefined
  /** How often the remote's health is checked while offline (default 10000 ms; the same as
   * `options.healthCheckIntervalMs`, which it overrides). */
  readonly healthCheckIntervalMs?: number | undefined
  /** The signed-in user: another user makes a new instance. */
  readonly userId?: string | undefined
  /** Where bytes are kept (default `"opfs"`). */
  readonly fileSystem?: FileSystemOption | undefined
  /** With OPFS, the worker downloads are written in (see `CreateFileSyncConfig.worker`; default
   * true: the package's own). */
  readonly worker?: boolean | string | URL | undefined
  /** Every engine option (see `initFileSync`). */
  readonly options?: FileSyncOptions | undefined
  /** Start syncing at once (default true). */
  readonly autoStart?: boolean | undefined
}

/**
 * The `initFileSync` config of `settings()`. Its token getter reads `settings()` at each call, so
 * the current props' token is the one sent.
 */
export function initConfigOf(settings: () => ProviderSettings): InitFileSyncConfig {
  const s = settings()
  const headers = { ...s.headers, ...s.authHeaders?.() }
  const options: FileSyncOptions = {
    ...s.options,
    ...(s.healthCheckIntervalMs !== undefined ? { healthCheckIntervalMs: s.healthCheckIntervalMs } : {}),
  }
  return {
    remote: s.localOnly
      ? false
      : {
          signerBaseUrl: s.signerBaseUrl ?? '/api',
          authToken: () => {
            const token = settings().authToken
            return typeof token === 'function' ? token() : token
          },
          ...(Object.keys(headers).length > 0 ? { headers } : {}),
          ...(s.includeCredentials !== undefined ? { includeCredentials: s.includeCredentials } : {}),
        },
    options,
    ...(s.fileSystem !== undefined ? { fileSystem: s.fileSystem } : {}),
    ...(s.worker !== undefined ? { worker: s.worker } : {}),
    ...(s.autoStart !== undefined ? { autoStart: s.autoStart } : {}),
    ...(s.userId !== undefined ? { userId: s.userId } : {}),
  }
}

/** The settings that make a new instance when they change (with the store). */
export function instanceKeyOf(s: ProviderSettings): ReadonlyArray<unknown> {
  return [s.localOnly ? false : (s.signerBaseUrl ?? '/api'), s.userId ?? null, s.fileSystem ?? 'opfs']
}

/** Whether two {@link instanceKeyOf} answers are the same. */
export function sameInstanceKey(a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]))
}

/** What a provider hands to its hooks or composables. */
export interface ProvidedFileSync {
  readonly store: Store<any>
  readonly fileSync: FileSync
  readonly progress: TransferProgress
}
