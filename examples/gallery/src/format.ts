// Small display helpers.

/** `1.4 MB`, `820 KB`, `12 B`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** What a file row's metadata says (written by the package and by the image preprocessor). */
export interface FileMeta {
  mimeType?: string
  sizeBytes?: number
  name?: string
  image?: { width: number; height: number }
}

export function metaOf(metadataJson: string | null | undefined): FileMeta {
  if (!metadataJson) return {}
  try {
    const value = JSON.parse(metadataJson)
    return value && typeof value === 'object' ? value : {}
  } catch {
    return {}
  }
}
