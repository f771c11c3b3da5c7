/** PNG encoding of rendered scenes (the only file that touches sharp). */
import sharp from 'sharp';
import type { RgbImage } from './raster.js';

/** Encodes an RGB image as PNG bytes. */
export async function encodePng(image: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .png()
    .toBuffer();
}

/** Decodes PNG bytes to RGB (alpha dropped), for checks of written files. */
export async function decodePng(bytes: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
