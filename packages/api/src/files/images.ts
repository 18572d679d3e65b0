// Pictures are re-encoded before anyone else sees them: decoded with a bound on pixels (a small
// file that decodes to gigapixels - a decompression bomb - is refused), turned upright by its EXIF
// orientation, and written again in the same format with no metadata at all (no GPS position, no
// camera serial, no thumbnail of the uncropped original), plus a small WebP thumbnail.
// SVG is not a picture here: it is a document that can carry script, served only as a download.
import sharp from "sharp";

// libvips' operation cache keeps recent inputs and results for reuse; every picture here is seen
// once, so it would only hold memory (tens of MB per photo) after the upload is done.
sharp.cache(false);

/** The formats re-encoded and served inline; the sniffed type of anything else is served as a download. */
export const IMAGE_TYPES = new Map([
  ["image/png", "png"],
  ["image/jpeg", "jpeg"],
  ["image/webp", "webp"],
  ["image/gif", "gif"],
  ["image/avif", "avif"],
] as const);
export type ImageType = Parameters<(typeof IMAGE_TYPES)["get"]>[0];

export const isImageType = (contentType: string): contentType is ImageType => IMAGE_TYPES.has(contentType as ImageType);

/** Frames that may move: decoded as every frame, not just the first. */
const ANIMATED = new Set<ImageType>(["image/gif", "image/webp"]);

/** The thumbnail fits in a square of this side. */
export const THUMBNAIL_SIZE = 400;

export interface ProcessedImage {
  /** The picture re-encoded without metadata. */
  data: Buffer;
  width: number;
  height: number;
  /** A WebP of at most THUMBNAIL_SIZE on each side (first frame). */
  thumbnail: Buffer;
}

/** Re-encodes the picture; null when it cannot be decoded (it is then kept as a plain file). */
export async function processImage(input: Buffer, type: ImageType, maxPixels: number): Promise<ProcessedImage | null> {
  const format = IMAGE_TYPES.get(type);
  if (!format) return null;
  const animated = ANIMATED.has(type);
  try {
    // failOn "error": a truncated or corrupt picture is a plain file, not half a picture.
    const decoded = sharp(input, { limitInputPixels: maxPixels, animated, failOn: "error" });
    const meta = await decoded.metadata();
    // Frames of an animation carry no orientation; a still picture is turned upright first.
    const upright = (meta.pages ?? 1) > 1 ? decoded : decoded.autoOrient();
    // No withMetadata/keepExif: sharp writes none of the input's metadata.
    const { data, info } = await upright.clone().toFormat(format).toBuffer({ resolveWithObject: true });
    const thumbnail = await sharp(input, { limitInputPixels: maxPixels, failOn: "error" })
      .autoOrient()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    return { data, width: info.width, height: info.pageHeight ?? info.height, thumbnail };
  } catch {
    return null;
  }
}
