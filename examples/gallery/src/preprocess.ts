// The image preprocessor: records an image's width and height in the file's metadata, so every
// client can reserve the preview's space before the bytes arrive. The bytes stay as they are.
import type { FilePreprocessor } from 'filesync-livestore'

export const imageSize: FilePreprocessor = async (file) => {
  try {
    const bitmap = await createImageBitmap(file)
    const image = { width: bitmap.width, height: bitmap.height }
    bitmap.close()
    return { file, metadata: { image } }
  } catch {
    // Not an image the browser can decode: saved without dimensions.
    return file
  }
}
