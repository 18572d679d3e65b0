import type { Attachment } from "@parley/client";

/** The box a picture's preview fits in (CSS narrows it further on a phone). */
const PREVIEW_MAX = { width: 320, height: 240 };

/** Pictures Parley re-encoded have their size; everything else is a file to download. */
export function isPicture(attachment: Attachment): attachment is Attachment & { width: number; height: number } {
  return attachment.contentType.startsWith("image/") && Boolean(attachment.width && attachment.height);
}

/** A preview's size: the picture scaled down (never up) to fit PREVIEW_MAX, so its place is kept before it loads. */
export function previewSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, PREVIEW_MAX.width / width, PREVIEW_MAX.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}


/** A message's files in a few words, for where only text shows (previews, notifications): "sunset.png", "2 pictures", "3 files". */
export function describeAttachments(attachments: readonly Attachment[]): string {
  const [only] = attachments;
  if (attachments.length === 1 && only) return only.name;
  if (attachments.length === 0) return "";
  return attachments.every(isPicture) ? `${attachments.length} pictures` : `${attachments.length} files`;
}

/** A message's text for a preview, or its files when it has no words. */
export function plainTextWithFiles(text: string, attachments: readonly Attachment[]): string {
  return text.trim() === "" && attachments.length > 0 ? `📎 ${describeAttachments(attachments)}` : text;
}
