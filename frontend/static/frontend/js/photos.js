// Photos are made smaller in the browser before upload: phones take 4000-pixel photos of
// several MB, and a slow connection should not have to carry them.

const QUALITY = 0.85;

// `maxSide` comes from the server (config.limits.photoResizeSide).
export async function resizePhoto(file, maxSide) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return file;  // a format the browser cannot draw (HEIC on some): the server converts it
  }
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && file.type === 'image/jpeg' && file.size < 1_500_000) return file;
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  return blob || file;
}
