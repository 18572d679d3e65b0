// Files (issue 14) end to end over real HTTP, on SQLite and PostgreSQL: uploads streamed to the
// store with the size limit enforced while streaming, types sniffed from the content, names made
// harmless, pictures re-encoded without metadata, signed download URLs for members only, files
// attached by message.send and removed with their message or by the sweep, kept across a restart
// and shared by two instances.
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { FileUrlSigner } from "@parley/api";
import type { AttachmentDto, FileUrlDto } from "@parley/api/schemas";
import {
  clientMessageId,
  createTestDatabase,
  describeEachProvider,
  errorCodeOf,
  errorOf,
  perTestCleanup,
  postgresUrl,
  redisUrl,
  signUpAndLogIn,
  startTestServer,
  suiteServer,
  TEST_JWT_SECRET,
  testLimits,
  type SignedIn,
  type TestServer,
} from "./harness.js";

const { cleanups, subscribe } = perTestCleanup();

/** Small, so that the oversize tests stream little. */
const MAX_UPLOAD = 64 * 1024;
const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});
function filesDir(): string {
  const dir = join(tmpdir(), `parley-files-test-${randomUUID()}`);
  folders.push(dir);
  return dir;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
const json = <T>(answer: Answer): T => JSON.parse(answer.body.toString("utf8")) as T;

/**
 * POSTs a body to /files: with Content-Length, or chunked (no length) in `chunk`-byte pieces. A
 * server that answers before the body is sent (413) may close the connection under the writes;
 * the answer counts, the write errors after it do not.
 */
function upload(
  server: { url: string },
  token: string | null,
  query: Record<string, string>,
  body: Buffer,
  options: { chunked?: boolean; declaredLength?: number } = {},
): Promise<Answer> {
  const url = new URL(`/files?${new URLSearchParams(query).toString()}`, server.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (!options.chunked) headers["Content-Length"] = String(options.declaredLength ?? body.length);
    let answered = false;
    const req = request(url, { method: "POST", headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (options.declaredLength !== undefined && options.declaredLength > body.length) {
      // Announce more than is sent: the server must refuse on the header alone.
      req.flushHeaders();
      return;
    }
    if (!options.chunked) {
      req.end(body);
      return;
    }
    const CHUNK = 8 * 1024;
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length && !answered && !req.destroyed) {
        const piece = body.subarray(offset, offset + CHUNK);
        offset += piece.length;
        if (!req.write(piece)) return void req.once("drain", writeMore);
      }
      if (!req.destroyed) req.end();
    };
    writeMore();
  });
}

async function fetchFile(server: { url: string }, path: string, method: "GET" | "HEAD" = "GET"): Promise<Answer> {
  const res = await fetch(new URL(path, server.url), { method });
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: Buffer.from(await res.arrayBuffer()) };
}

const png = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: "#3366aa" } }).png().toBuffer();

/** A JPEG 40 wide, 20 high, stored rotated (EXIF orientation 6: shown 20 × 40), with a GPS position and a camera name in its EXIF. */
const jpegWithGps = () =>
  sharp({ create: { width: 40, height: 20, channels: 3, background: "#aa3366" } })
    .jpeg()
    // sharp names the GPS directory IFD3.
    .withExif({ IFD0: { Make: "SpyCam" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1", GPSLongitudeRef: "W", GPSLongitude: "0/1 7/1 0/1" } })
    .withMetadata({ orientation: 6 })
    .toBuffer();

/** What the store folder holds (nothing when it was never created). */
const storedFiles = (server: TestServer) => (existsSync(server.config.files.dir) ? readdirSync(server.config.files.dir) : []);

async function group(owner: SignedIn, ...others: SignedIn[]): Promise<string> {
  return (await owner.api.conversation.create.mutate({ title: "files", memberIds: others.map((u) => u.id) })).id;
}

async function uploaded(server: { url: string }, user: SignedIn, conversationId: string, name: string, body: Buffer): Promise<AttachmentDto> {
  const answer = await upload(server, user.accessToken, { conversationId, name }, body);
  expect(answer.status, answer.body.toString()).toBe(201);
  return json<AttachmentDto>(answer);
}

async function urlsOf(user: SignedIn, ...ids: string[]): Promise<FileUrlDto[]> {
  return user.api.file.urls.query({ attachmentIds: ids });
}

async function urlOf(user: SignedIn, id: string): Promise<FileUrlDto> {
  const [found] = await urlsOf(user, id);
  if (!found) throw new Error(`no URL for ${id}`);
  return found;
}

function expectInert(answer: Answer): void {
  expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  expect(answer.headers["content-security-policy"]).toBe("default-src 'none'; sandbox");
}

describeEachProvider("files", (provider) => {
  const server = suiteServer(provider, { api: testLimits(), files: { dir: filesDir(), maxUploadBytes: MAX_UPLOAD } });

  it("stores an upload with the type its content has, whatever its name says, and serves a picture inline with its thumbnail", async () => {
    const alice = await signUpAndLogIn(server());
    const bob = await signUpAndLogIn(server());
    const conversationId = await group(alice, bob);
    const picture = await png(600, 300);

    const attachment = await uploaded(server(), alice, conversationId, "report.pdf", picture);

    expect(attachment).toMatchObject({ name: "report.pdf", contentType: "image/png", width: 600, height: 300 });
    expect(attachment.size).toBeGreaterThan(0);
    const message = await alice.api.message.send.mutate({ conversationId, content: "", clientMessageId: clientMessageId(), attachmentIds: [attachment.id] });
    const links = await urlOf(bob, attachment.id);
    expect(Date.parse(links.expiresAt) - Date.now()).toBeGreaterThan(14 * 60 * 1000);
    const original = await fetchFile(server(), links.url);
    expect(original.status).toBe(200);
    expect(original.headers["content-type"]).toBe("image/png");
    expect(original.headers["content-disposition"]).toBe(`inline; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(original.headers["cache-control"]).toMatch(/^private, max-age=\d+$/);
    expectInert(original);
    expect(original.body.length).toBe(attachment.size);
    expect(await sharp(original.body).metadata()).toMatchObject({ format: "png", width: 600, height: 300 });
    if (!links.thumbnailUrl) throw new Error("a picture has a thumbnail");
    const thumbnail = await fetchFile(server(), links.thumbnailUrl);
    expect(thumbnail.headers["content-type"]).toBe("image/webp");
    expect(await sharp(thumbnail.body).metadata()).toMatchObject({ format: "webp", width: 400, height: 200 });
    const head = await fetchFile(server(), links.url, "HEAD");
    expect([head.status, head.headers["content-length"], head.body.length]).toEqual([200, String(attachment.size), 0]);
    expect(message.attachments).toEqual([attachment]);
  });

  it("serves a photo upright and without its EXIF (no GPS position, no camera)", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const photo = await jpegWithGps();
    expect(await sharp(photo).metadata()).toMatchObject({ orientation: 6, exif: expect.any(Buffer) });
    expect(photo.includes(Buffer.from("SpyCam"))).toBe(true);

    const attachment = await uploaded(server(), alice, conversationId, "holiday.jpg", photo);
    const served = await fetchFile(server(), (await urlOf(alice, attachment.id)).url);

    const meta = await sharp(served.body).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 20, height: 40 });
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation ?? 1).toBe(1);
    expect(served.body.includes(Buffer.from("SpyCam"))).toBe(false);
    expect([attachment.width, attachment.height]).toEqual([20, 40]);
  });

  it("refuses an upload whose Content-Length is over the limit before reading it, keeping nothing", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const before = storedFiles(server()).length;

    const answer = await upload(server(), alice.accessToken, { conversationId, name: "big.bin" }, Buffer.alloc(16), { declaredLength: MAX_UPLOAD + 1 });

    expect(answer.status).toBe(413);
    expect(json<{ error: { message: string } }>(answer).error.message).toMatch(/larger than the limit/);
    expect(await server().services.db.prisma.attachment.count({ where: { uploaderId: alice.id } })).toBe(0);
    expect(storedFiles(server())).toHaveLength(before);
  });

  it("cuts a chunked upload off at the limit while streaming: 413, no row, no partial file left", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const before = storedFiles(server()).length;

    const answer = await upload(server(), alice.accessToken, { conversationId, name: "big.bin" }, Buffer.alloc(MAX_UPLOAD * 4, 7), { chunked: true });

    expect(answer.status).toBe(413);
    expect(await server().services.db.prisma.attachment.count({ where: { uploaderId: alice.id } })).toBe(0);
    expect(storedFiles(server())).toHaveLength(before);
    // Exactly the limit is fine.
    expect((await upload(server(), alice.accessToken, { conversationId, name: "full.bin" }, Buffer.alloc(MAX_UPLOAD, 1), { chunked: true })).status).toBe(201);
  });

  it("refuses uploads from a non-member, to a conversation that does not exist, and without a valid token", async () => {
    const alice = await signUpAndLogIn(server());
    const stranger = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const body = Buffer.from("hello");

    expect((await upload(server(), stranger.accessToken, { conversationId, name: "x.txt" }, body)).status).toBe(403);
    expect((await upload(server(), alice.accessToken, { conversationId: "no-such-conversation", name: "x.txt" }, body)).status).toBe(404);
    expect((await upload(server(), null, { conversationId, name: "x.txt" }, body)).status).toBe(401);
    expect((await upload(server(), "not-a-token", { conversationId, name: "x.txt" }, body)).status).toBe(401);
    expect((await upload(server(), alice.accessToken, { name: "x.txt" }, body)).status).toBe(400);
    expect(await server().services.db.prisma.attachment.count({ where: { conversationId } })).toBe(0);
  });

  it("makes names harmless: no folders, no control or bidi characters, no dot files; storage keys are never the name", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const names: [string, string][] = [
      ["../../etc/passwd", "passwd"],
      ["..\\..\\windows\\win.ini", "win.ini"],
      ["invoice\u202Efdp.exe", "invoicefdp.exe"],
      ["line\nbreak\u0000.txt", "linebreak.txt"],
      ["..", "file"],
      [".bashrc", "bashrc"],
      ["a:b*c?.txt", "a_b_c_.txt"],
      [`${"x".repeat(300)}.pdf`, `${"x".repeat(115)}….pdf`],
    ];
    for (const [given, expected] of names) {
      const attachment = await uploaded(server(), alice, conversationId, given, Buffer.from("some text"));
      expect(attachment.name, given).toBe(expected);
    }
    for (const stored of storedFiles(server())) expect(stored).toMatch(/^[0-9a-f]{32}(\.thumb)?$/);
  });

  it("serves HTML, SVG and a renamed executable as downloads of application/octet-stream, never inline", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const files: [string, Buffer][] = [
      ["page.html", Buffer.from("<!doctype html><script>alert(document.domain)</script>")],
      ["logo.svg", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>')],
      // A Windows executable (MZ header, PE signature) pretending to be a photo.
      ["photo.jpg", Buffer.concat([Buffer.from("MZ"), Buffer.alloc(58), Buffer.from([0x40, 0, 0, 0]), Buffer.from("PE\0\0"), Buffer.alloc(200)])],
    ];
    for (const [name, body] of files) {
      const attachment = await uploaded(server(), alice, conversationId, name, body);
      expect(attachment.width, name).toBeUndefined();
      expect(attachment.contentType, name).not.toMatch(/^image\/|html|svg/);
      const links = await urlOf(alice, attachment.id);
      expect(links.thumbnailUrl).toBeUndefined();
      const served = await fetchFile(server(), links.url);
      expect(served.headers["content-type"], name).toBe("application/octet-stream");
      expect(served.headers["content-disposition"], name).toBe(`attachment; filename="${name}"; filename*=UTF-8''${name}`);
      expectInert(served);
      expect(served.body.equals(body)).toBe(true);
    }
  });

  it("keeps a picture it cannot decode as a plain file: a download, no size, no thumbnail", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const whole = await png(64, 64);
    const broken = whole.subarray(0, whole.length - 40);

    const attachment = await uploaded(server(), alice, conversationId, "broken.png", broken);

    expect(attachment).toEqual({ id: attachment.id, name: "broken.png", size: broken.length, contentType: "application/octet-stream" });
    const links = await urlOf(alice, attachment.id);
    expect(links.thumbnailUrl).toBeUndefined();
    const served = await fetchFile(server(), links.url);
    expect([served.headers["content-type"], served.headers["content-disposition"]?.toString().split(";")[0]]).toEqual(["application/octet-stream", "attachment"]);
    expect(served.body.equals(broken)).toBe(true);
  });

  it("refuses forged, expired and borrowed signatures (403) and answers 404 for a variant that does not exist", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const one = await uploaded(server(), alice, conversationId, "one.txt", Buffer.from("one"));
    const two = await uploaded(server(), alice, conversationId, "two.txt", Buffer.from("two"));
    const links = await urlOf(alice, one.id);
    const url = new URL(links.url, server().url);
    const sig = url.searchParams.get("sig") ?? "";
    const exp = url.searchParams.get("exp") ?? "";
    const signer = new FileUrlSigner(TEST_JWT_SECRET);

    const forged = `/files/${one.id}/original?exp=${exp}&sig=${sig.slice(0, -2)}AA`;
    const later = `/files/${one.id}/original?exp=${Number(exp) + 600}&sig=${sig}`;
    const borrowed = `/files/${two.id}/original?exp=${exp}&sig=${sig}`;
    const unsigned = `/files/${one.id}/original`;
    const expired = signer.sign(one.id, "original", new Date(Date.now() - 60 * 60 * 1000)).url;
    for (const path of [forged, later, borrowed, unsigned, expired]) expect((await fetchFile(server(), path)).status, path).toBe(403);
    expect((await fetchFile(server(), links.url)).status).toBe(200);
    // Signed with the server's key, but a plain file has no thumbnail.
    expect((await fetchFile(server(), signer.sign(one.id, "thumbnail", new Date()).url)).status).toBe(404);
    expect((await fetchFile(server(), `/files/${one.id}/other`)).status).toBe(404);
  });

  it("gives URLs to members only: not to a stranger, not to a removed member, an unattached upload only to its uploader", async () => {
    const alice = await signUpAndLogIn(server());
    const bob = await signUpAndLogIn(server());
    const stranger = await signUpAndLogIn(server());
    const conversationId = await group(alice, bob);
    const attached = await uploaded(server(), alice, conversationId, "a.txt", Buffer.from("a"));
    const pending = await uploaded(server(), alice, conversationId, "b.txt", Buffer.from("b"));
    await alice.api.message.send.mutate({ conversationId, content: "see", clientMessageId: clientMessageId(), attachmentIds: [attached.id] });

    expect((await urlsOf(alice, attached.id, pending.id)).map((u) => u.id).sort()).toEqual([attached.id, pending.id].sort());
    expect((await urlsOf(bob, attached.id, pending.id)).map((u) => u.id)).toEqual([attached.id]);
    expect(await urlsOf(stranger, attached.id, pending.id)).toEqual([]);
    await alice.api.conversation.removeMember.mutate({ conversationId, userId: bob.id });
    expect(await urlsOf(bob, attached.id)).toEqual([]);
    expect(await errorCodeOf(bob.api.file.urls.query({ attachmentIds: [] }))).toBe("BAD_REQUEST");
  });

  it("message.send attaches only the sender's own unattached uploads to the same conversation, and a retry gets the stored message", async () => {
    const alice = await signUpAndLogIn(server());
    const bob = await signUpAndLogIn(server());
    const conversationId = await group(alice, bob);
    const elsewhere = await group(alice, bob);
    const mine = await uploaded(server(), alice, conversationId, "mine.txt", Buffer.from("mine"));
    const bobs = await uploaded(server(), bob, conversationId, "bobs.txt", Buffer.from("bobs"));
    const otherRoom = await uploaded(server(), alice, elsewhere, "other.txt", Buffer.from("other"));
    const send = (attachmentIds: string[], content = "", id = clientMessageId()) => alice.api.message.send.mutate({ conversationId, content, clientMessageId: id, attachmentIds });

    expect(await errorCodeOf(send([bobs.id]))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(send([otherRoom.id]))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(send([mine.id, "no-such-upload"]))).toBe("NOT_FOUND");
    expect(await errorCodeOf(send([mine.id, mine.id]))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(send(Array.from({ length: 11 }, (_, i) => `id${i}`)))).toBe("BAD_REQUEST");
    expect((await errorOf(alice.api.message.send.mutate({ conversationId, content: " ", clientMessageId: clientMessageId() }))).message).toMatch(/white space/);
    expect((await alice.api.message.list.query({ conversationId })).items).toEqual([]);

    const key = clientMessageId();
    const sent = await send([mine.id], "\u200B ", key);
    expect(sent.content).toBe("");
    expect(sent.attachments).toEqual([mine]);
    expect(await send([mine.id], "\u200B ", key)).toEqual(sent);
    expect(await errorCodeOf(send([mine.id]))).toBe("BAD_REQUEST");
    expect((await alice.api.message.list.query({ conversationId })).items).toEqual([sent]);
  });

  it("a message's attachments reach message.list, replies and the live feed", async () => {
    const alice = await signUpAndLogIn(server());
    const bob = await signUpAndLogIn(server());
    const conversationId = await group(alice, bob);
    const feed = await subscribe(server(), bob);
    const first = await uploaded(server(), alice, conversationId, "first.png", await png(10, 10));
    const second = await uploaded(server(), alice, conversationId, "second.txt", Buffer.from("second"));

    const root = await alice.api.message.send.mutate({ conversationId, content: "two files", clientMessageId: clientMessageId(), attachmentIds: [second.id, first.id] });
    const third = await uploaded(server(), alice, conversationId, "third.txt", Buffer.from("third"));
    const reply = await alice.api.message.send.mutate({ conversationId, content: "", clientMessageId: clientMessageId(), threadId: root.id, attachmentIds: [third.id] });

    expect(root.attachments).toEqual([second, first]);
    expect(reply.attachments).toEqual([third]);
    expect((await bob.api.message.list.query({ conversationId })).items.map((m) => m.attachments)).toEqual([[second, first]]);
    expect((await bob.api.message.list.query({ conversationId, threadId: root.id })).items.map((m) => m.attachments)).toEqual([[third]]);
    const events = await feed.waitFor(3);
    const created = events.flatMap(({ event }) => (event.type === "message.created" ? [event.message.attachments] : []));
    expect(created).toEqual([[second, first], [third]]);
  });

  it("deleting a message deletes its files from storage, and its URLs answer 404", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const picture = await uploaded(server(), alice, conversationId, "gone.png", await png(30, 30));
    const message = await alice.api.message.send.mutate({ conversationId, content: "soon gone", clientMessageId: clientMessageId(), attachmentIds: [picture.id] });
    const links = await urlOf(alice, picture.id);
    const row = await server().services.db.prisma.attachment.findUniqueOrThrow({ where: { id: picture.id } });
    expect(storedFiles(server())).toEqual(expect.arrayContaining([row.storageKey, `${row.storageKey}.thumb`]));

    const tombstone = await alice.api.message.delete.mutate({ messageId: message.id });

    expect(tombstone.attachments).toEqual([]);
    expect(storedFiles(server()).filter((name) => name.startsWith(row.storageKey))).toEqual([]);
    expect(await server().services.db.prisma.attachment.count({ where: { id: picture.id } })).toBe(0);
    expect((await fetchFile(server(), links.url)).status).toBe(404);
    expect(await urlsOf(alice, picture.id)).toEqual([]);
    expect((await alice.api.message.list.query({ conversationId })).items[0]?.attachments).toEqual([]);
  });

  it("the sweep removes uploads never attached and files no row names once they are old, and keeps the rest", async () => {
    const alice = await signUpAndLogIn(server());
    const conversationId = await group(alice, await signUpAndLogIn(server()));
    const { prisma } = server().services.db;
    const stale = await uploaded(server(), alice, conversationId, "stale.txt", Buffer.from("stale"));
    const fresh = await uploaded(server(), alice, conversationId, "fresh.txt", Buffer.from("fresh"));
    const attached = await uploaded(server(), alice, conversationId, "kept.txt", Buffer.from("kept"));
    await alice.api.message.send.mutate({ conversationId, content: "kept", clientMessageId: clientMessageId(), attachmentIds: [attached.id] });
    const old = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await prisma.attachment.updateMany({ where: { id: { in: [stale.id, attached.id] } }, data: { createdAt: old } });
    const dir = server().config.files.dir;
    const staleKey = (await prisma.attachment.findUniqueOrThrow({ where: { id: stale.id } })).storageKey;
    for (const name of ["0badc0de", "0badc0de.thumb", "0ddba11.part-abc123"]) {
      writeFileSync(join(dir, name), "orphan");
      utimesSync(join(dir, name), old, old);
    }
    writeFileSync(join(dir, "0ddf00d"), "a fresh orphan may be an upload in progress");

    const removed = await server().services.files.sweep();

    expect(removed.uploads).toBe(1);
    expect(await prisma.attachment.findMany({ where: { id: { in: [stale.id, fresh.id, attached.id] } }, select: { id: true }, orderBy: { id: "asc" } })).toEqual(
      [fresh, attached].map((a) => ({ id: a.id })).sort((a, b) => a.id.localeCompare(b.id)),
    );
    const left = storedFiles(server());
    for (const gone of [staleKey, "0badc0de", "0badc0de.thumb", "0ddba11.part-abc123"]) expect(left).not.toContain(gone);
    expect(left).toContain("0ddf00d");
    expect((await fetchFile(server(), (await urlOf(alice, attached.id)).url)).status).toBe(200);
    rmSync(join(dir, "0ddf00d"));
  });

  it("limits a user's uploads per window (429 with Retry-After) and how many run at once", async () => {
    const own = await startTestServer(provider, { api: testLimits({ uploadsPerUser: { max: 4, windowSeconds: 600 } }), files: { dir: filesDir() } });
    cleanups.push(async () => {
      await own.close();
      await own.database.drop();
    });
    const alice = await signUpAndLogIn(own);
    const conversationId = await group(alice, await signUpAndLogIn(own));
    const url = new URL(`/files?conversationId=${conversationId}&name=slow.bin`, own.url);
    // Three uploads that have started and not finished hold the user's three places.
    const slow = Array.from({ length: 3 }, () => {
      const req = request(url, { method: "POST", headers: { Authorization: `Bearer ${alice.accessToken}` } });
      const answered = new Promise<number>((resolve, reject) => {
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
      });
      req.write(Buffer.alloc(1024, 1));
      return { req, answered };
    });
    // Each has started writing its partial file once it holds a place.
    await expect.poll(() => storedFiles(own).filter((name) => name.includes(".part-")).length, { timeout: 5_000 }).toBe(3);
    const refused = await upload(own, alice.accessToken, { conversationId, name: "fourth.txt" }, Buffer.from("4"));
    expect(refused.status).toBe(429);
    expect(json<{ error: { message: string } }>(refused).error.message).toMatch(/at once/);
    for (const { req } of slow) req.end();
    expect(await Promise.all(slow.map((s) => s.answered))).toEqual([201, 201, 201]);

    // The window: three counted above, one more fits, the next is refused with when to try again.
    expect((await upload(own, alice.accessToken, { conversationId, name: "fourth.txt" }, Buffer.from("4"))).status).toBe(201);
    const over = await upload(own, alice.accessToken, { conversationId, name: "fifth.txt" }, Buffer.from("5"));
    expect(over.status).toBe(429);
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("keeps files across a restart", async () => {
    const own = await startTestServer(provider, { api: testLimits(), files: { dir: filesDir() } });
    cleanups.push(async () => {
      await own.close();
      await own.database.drop();
    });
    const alice = await signUpAndLogIn(own);
    const conversationId = await group(alice, await signUpAndLogIn(own));
    const attachment = await uploaded(own, alice, conversationId, "keep.txt", Buffer.from("still here"));
    await alice.api.message.send.mutate({ conversationId, content: "keep", clientMessageId: clientMessageId(), attachmentIds: [attachment.id] });
    const before = await urlOf(alice, attachment.id);

    const restarted = await own.restart();
    cleanups.push(() => restarted.close());

    expect((await fetchFile(restarted, before.url)).body.toString()).toBe("still here");
    expect((await fetchFile(restarted, (await urlOf(alice, attachment.id)).url)).body.toString()).toBe("still here");
  });
});

const missing = [!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean);
describe.skipIf(missing.length > 0)(`files on two instances sharing a folder, PostgreSQL and Redis${missing.length ? ` (skipped: ${missing.join(" and ")} not set)` : ""}`, () => {
  it("an upload through one instance is signed by the other and downloads from both", async () => {
    const database = await createTestDatabase("postgresql");
    const dir = filesDir();
    mkdirSync(dir, { recursive: true });
    const options = { database, redisUrl: redisUrl ?? null, redisChannel: `parley:test:${randomUUID()}`, api: testLimits(), files: { dir } };
    const a = await startTestServer("postgresql", options);
    const b = await startTestServer("postgresql", options);
    cleanups.push(async () => {
      await a.close();
      await b.close();
      await database.drop();
    });
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(b);
    const conversationId = await group(alice, bob);
    const attachment = await uploaded(a, alice, conversationId, "shared.png", await png(50, 20));
    await alice.api.message.send.mutate({ conversationId, content: "", clientMessageId: clientMessageId(), attachmentIds: [attachment.id] });

    const links = await urlOf(bob, attachment.id);

    for (const instance of [a, b]) {
      const served = await fetchFile(instance, links.url);
      expect(served.status).toBe(200);
      expect(await sharp(served.body).metadata()).toMatchObject({ width: 50, height: 20 });
      expect((await fetchFile(instance, links.thumbnailUrl ?? "")).status).toBe(200);
    }
  });
});
