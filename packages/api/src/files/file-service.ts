// The rules of files (issue 14): who may upload where, what is stored and how, who gets a URL, what
// a URL opens, and what is removed when. apps/server's HTTP handler only moves bytes and maps the
// DomainErrors thrown here to status codes; message.send attaches uploads (db.messages.insert),
// message.delete removes them (domain/message-changes.ts).
import { randomBytes } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { fileTypeFromBuffer } from "file-type";
import { attachmentEntry, type Database } from "@parley/db";
import type { Limiter } from "../auth/rate-limit.js";
import type { Clock } from "../clock.js";
import type { MembershipCache } from "../domain/memberships.js";
import { DomainError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { AttachmentDto, FileUrlDto } from "../schemas.js";
import { sanitizeFileName } from "./file-names.js";
import { uploadKeyOf, type FileStore } from "./file-store.js";
import { isImageType, processImage } from "./images.js";
import { FileUrlSigner, type FileVariant } from "./signed-urls.js";

export interface FilesConfig {
  /** The largest upload, in bytes (MAX_UPLOAD_BYTES). */
  maxUploadBytes: number;
  /** Uploads at once per user on an instance; more are TOO_MANY_REQUESTS. */
  concurrentUploadsPerUser: number;
  /** Pixels a picture may decode to (width × height): more is kept as a plain file, not decoded. */
  maxImagePixels: number;
  /** Bytes of a picture read into memory to decode it: a larger one is kept as a plain file. */
  maxImageBytes: number;
  /** Pictures decoded at once on an instance (each holds its decoded pixels in memory). */
  concurrentImages: number;
  /** Uploads not attached to a message after this long are removed, and so are files no row names. */
  unattachedTtlSeconds: number;
  /** How often an instance sweeps. */
  sweepIntervalSeconds: number;
}

export const defaultFilesConfig: FilesConfig = {
  maxUploadBytes: 25 * 1024 * 1024,
  concurrentUploadsPerUser: 3,
  // 40 megapixels: any camera's photo; decoded as RGBA it is 160 MB, hence concurrentImages.
  maxImagePixels: 40_000_000,
  maxImageBytes: 50 * 1024 * 1024,
  concurrentImages: 2,
  unattachedTtlSeconds: 24 * 60 * 60,
  sweepIntervalSeconds: 60 * 60,
};

/** Bytes the sniffer sees: what file-type reads for every format it knows. */
const SNIFF_BYTES = 4100;
const THUMBNAIL_SUFFIX = ".thumb";
/** Rows the sweep removes per round trip. */
const SWEEP_BATCH = 500;

export interface UploadRequest {
  userId: string;
  conversationId: string;
  /** The name the client gave (percent-decoded); sanitised before it is stored. */
  name: string;
  /** The length the client announced, if any: above the limit, refused before a byte is read. */
  declaredLength: number | null;
  body: Readable;
}

export interface Download {
  stream: Readable;
  size: number;
  contentType: string;
  /** Inline only for the pictures Parley re-encoded; everything else is a download. */
  inline: boolean;
  name: string;
  /** Seconds the URL stays valid: how long a browser may cache the answer. */
  maxAgeSeconds: number;
}

const tooLarge = (max: number) => new DomainError("too_large", `The file is larger than the limit of ${max} bytes`);

export class FileService {
  private readonly signer: FileUrlSigner;
  private readonly uploading = new Map<string, number>();
  private imagesRunning = 0;
  private readonly imageQueue: (() => void)[] = [];

  constructor(
    private readonly deps: {
      db: Database;
      store: FileStore;
      memberships: MembershipCache;
      clock: Clock;
      log: Logger;
      uploadsByUser: Limiter;
      config: FilesConfig;
      jwtSecret: string | Buffer;
    },
  ) {
    this.signer = new FileUrlSigner(deps.jwtSecret);
  }

  /** Stores an upload by a member of the conversation and records it, unattached. */
  async upload(request: UploadRequest): Promise<AttachmentDto> {
    const { db, store, config, uploadsByUser } = this.deps;
    const { userId, conversationId } = request;
    if (request.declaredLength !== null && request.declaredLength > config.maxUploadBytes) throw tooLarge(config.maxUploadBytes);
    await this.requireMember(conversationId, userId);
    const running = this.uploading.get(userId) ?? 0;
    if (running >= config.concurrentUploadsPerUser) throw new DomainError("rate_limited", `At most ${config.concurrentUploadsPerUser} uploads at once`, 1);
    const wait = await uploadsByUser.take(userId);
    if (wait > 0) throw new DomainError("rate_limited", `Too many uploads. Try again in ${wait} seconds.`, wait);
    this.uploading.set(userId, running + 1);
    const key = randomBytes(16).toString("hex");
    const meter = new UploadMeter(config.maxUploadBytes);
    try {
      await store.put(key, metered(request.body, meter));
      if (meter.bytes === 0) throw new DomainError("invalid", "The file is empty");
      // The content says what it is; the name is never asked.
      const contentType = (await fileTypeFromBuffer(meter.head))?.mime ?? "application/octet-stream";
      const image = isImageType(contentType) && meter.bytes <= config.maxImageBytes ? await this.reencode(key, contentType) : null;
      const row = await db.prisma.attachment.create({
        data: {
          conversationId,
          uploaderId: userId,
          name: sanitizeFileName(request.name),
          size: image?.size ?? meter.bytes,
          // A picture sharp could not read is a plain file.
          contentType: image || !isImageType(contentType) ? contentType : "application/octet-stream",
          width: image?.width ?? null,
          height: image?.height ?? null,
          storageKey: key,
          hasThumbnail: image !== null,
        },
      });
      return attachmentEntry(row);
    } catch (error) {
      await this.removeStored([key]);
      // The body was cut at the limit (or the client went away): nothing is kept.
      if (error instanceof UploadTooLarge) throw tooLarge(config.maxUploadBytes);
      throw error;
    } finally {
      const left = (this.uploading.get(userId) ?? 1) - 1;
      if (left > 0) this.uploading.set(userId, left);
      else this.uploading.delete(userId);
    }
  }

  /** URLs for each attachment the caller may see: a member's of its conversation now; an unattached upload only its uploader's. */
  async urls(userId: string, attachmentIds: readonly string[]): Promise<FileUrlDto[]> {
    const { db, clock } = this.deps;
    const rows = await db.prisma.attachment.findMany({
      where: { id: { in: [...new Set(attachmentIds)] } },
      select: { id: true, conversationId: true, uploaderId: true, messageId: true, hasThumbnail: true },
    });
    const conversations = await db.prisma.conversationMember.findMany({
      where: { userId, conversationId: { in: [...new Set(rows.map((r) => r.conversationId))] } },
      select: { conversationId: true },
    });
    const memberOf = new Set(conversations.map((c) => c.conversationId));
    const now = clock.now();
    return rows
      .filter((row) => memberOf.has(row.conversationId) && (row.messageId !== null || row.uploaderId === userId))
      .map((row) => {
        const original = this.signer.sign(row.id, "original", now);
        return {
          id: row.id,
          url: original.url,
          ...(row.hasThumbnail ? { thumbnailUrl: this.signer.sign(row.id, "thumbnail", now).url } : {}),
          expiresAt: original.expiresAt.toISOString(),
        };
      });
  }

  /** What a signed URL opens: forbidden when the signature is wrong or expired, not_found when the file is gone. */
  async download(attachmentId: string, variant: FileVariant, exp: string | null, sig: string | null): Promise<Download> {
    const { db, store, clock } = this.deps;
    const verdict = this.signer.verify(attachmentId, variant, exp, sig, clock.now());
    if (verdict.status !== "ok") throw new DomainError("forbidden", verdict.status === "expired" ? "This link has expired" : "This link is not valid");
    const row = await db.prisma.attachment.findUnique({
      where: { id: attachmentId },
      select: { name: true, contentType: true, storageKey: true, hasThumbnail: true },
    });
    if (!row || (variant === "thumbnail" && !row.hasThumbnail)) throw new DomainError("not_found", "No such file");
    const thumbnail = variant === "thumbnail";
    const image = row.hasThumbnail;
    const key = thumbnail ? `${row.storageKey}${THUMBNAIL_SUFFIX}` : row.storageKey;
    const opened = await store.open(key);
    if (!opened) throw new DomainError("not_found", "No such file");
    return {
      ...opened,
      contentType: thumbnail ? "image/webp" : image ? row.contentType : "application/octet-stream",
      inline: image,
      name: thumbnail ? `${row.name}.webp` : row.name,
      maxAgeSeconds: verdict.secondsLeft,
    };
  }

  /** Removes the files of uploads whose rows are gone (a deleted message's); failures are left to the sweep. */
  async removeStored(storageKeys: readonly string[]): Promise<void> {
    for (const key of storageKeys) {
      for (const name of [key, `${key}${THUMBNAIL_SUFFIX}`]) {
        await this.deps.store.delete(name).catch((error: unknown) => this.deps.log.warn({ err: error }, "removing a stored file failed"));
      }
    }
  }

  /**
   * Removes uploads never attached within the TTL (row first, then files), and files older than the
   * TTL that no row names (a delete's files whose removal failed, an upload cut short by a crash, a
   * gone conversation's). Safe on several instances at once: a row is deleted only while still
   * unattached, and deleting a file twice is nothing.
   */
  async sweep(): Promise<{ uploads: number; files: number }> {
    const { db, store, clock } = this.deps;
    const cutoff = new Date(clock.now().getTime() - this.deps.config.unattachedTtlSeconds * 1000);
    let uploads = 0;
    for (;;) {
      const stale = await db.prisma.attachment.findMany({ where: { messageId: null, createdAt: { lt: cutoff } }, select: { id: true, storageKey: true }, take: SWEEP_BATCH });
      for (const row of stale) {
        // Attached meanwhile (the insert holds the row, see db.messages): kept.
        const { count } = await db.prisma.attachment.deleteMany({ where: { id: row.id, messageId: null } });
        if (count === 0) continue;
        uploads += 1;
        await this.removeStored([row.storageKey]);
      }
      if (stale.length < SWEEP_BATCH) break;
    }
    let files = 0;
    let batch: string[] = [];
    const removeOrphans = async () => {
      const keys = [...new Set(batch.map(uploadKeyOf))];
      const named = await db.prisma.attachment.findMany({ where: { storageKey: { in: keys } }, select: { storageKey: true } });
      const kept = new Set(named.map((r) => r.storageKey));
      for (const name of batch) {
        if (kept.has(uploadKeyOf(name))) continue;
        await store.delete(name);
        files += 1;
      }
      batch = [];
    };
    for await (const entry of store.list()) {
      if (entry.modifiedAt >= cutoff) continue;
      batch.push(entry.key);
      if (batch.length >= SWEEP_BATCH) await removeOrphans();
    }
    if (batch.length > 0) await removeOrphans();
    return { uploads, files };
  }

  private async requireMember(conversationId: string, userId: string): Promise<void> {
    const { memberships } = this.deps;
    let memberIds = await memberships.get(conversationId);
    if (memberIds && !memberIds.has(userId)) memberIds = await memberships.refresh(conversationId);
    if (!memberIds) throw new DomainError("not_found", "No such conversation");
    if (!memberIds.has(userId)) throw new DomainError("forbidden", "You are not a member of this conversation");
  }

  /** Replaces a stored picture by its re-encoding and writes its thumbnail; null when it is not a readable picture. */
  private async reencode(key: string, type: Parameters<typeof processImage>[1]): Promise<{ size: number; width: number; height: number } | null> {
    const { store, config } = this.deps;
    await this.imageTurn();
    try {
      const opened = await store.open(key);
      if (!opened) return null;
      // sharp decodes from memory; the picture is at most maxImageBytes.
      const chunks: Buffer[] = [];
      for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
      const image = await processImage(Buffer.concat(chunks), type, config.maxImagePixels);
      if (!image) return null;
      await store.put(key, Readable.from([image.data]));
      await store.put(`${key}${THUMBNAIL_SUFFIX}`, Readable.from([image.thumbnail]));
      return { size: image.data.length, width: image.width, height: image.height };
    } finally {
      this.imagesRunning -= 1;
      this.imageQueue.shift()?.();
    }
  }

  /** Waits for one of the instance's picture slots (decoding holds the pixels in memory). */
  private async imageTurn(): Promise<void> {
    if (this.imagesRunning >= this.deps.config.concurrentImages) await new Promise<void>((resolve) => this.imageQueue.push(resolve));
    this.imagesRunning += 1;
  }
}

class UploadTooLarge extends Error {}

/**
 * The body through the meter. Not stream.pipeline: past the limit the body must not be destroyed
 * (that would close the socket before the 413 is sent), only no longer read; a body that fails or
 * ends early (the client went away) fails the write.
 */
function metered(body: Readable, meter: UploadMeter): UploadMeter {
  body.once("error", (error) => meter.destroy(error));
  body.once("close", () => {
    if (!body.readableEnded) meter.destroy(new Error("the upload ended before its last byte"));
  });
  meter.once("error", () => body.unpipe(meter));
  return body.pipe(meter);
}

/** Counts an upload's bytes as they stream past, keeps its first bytes for the sniffer, and fails past the limit. */
class UploadMeter extends Transform {
  bytes = 0;
  private readonly headChunks: Buffer[] = [];
  private headBytes = 0;

  constructor(private readonly max: number) {
    super();
  }

  get head(): Buffer {
    return Buffer.concat(this.headChunks);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return done(new UploadTooLarge());
    if (this.headBytes < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headBytes);
      this.headChunks.push(Buffer.from(part));
      this.headBytes += part.length;
    }
    done(null, chunk);
  }
}
