// Files from the client's side: uploads (progress, cancel, the errors people read, a refused token
// refreshed once), the queue of a composer's uploads, the cache of signed URLs that renews them
// before they expire, and messages that carry their attachments through the outbox.
import { describe, expect, it } from "vitest";
import { ChatStore } from "../src/chat/chat-store";
import { toStored } from "../src/chat/outbox";
import { Sender, type SendInput } from "../src/chat/sender";
import { buildTimeline } from "../src/chat/timeline";
import { FileUrlCache, REFRESH_BEFORE_MS, RETRY_FAILED_MS } from "../src/files/file-url-cache";
import { formatBytes } from "../src/files/format-bytes";
import { UploadError, uploadFile, type UploadRequest } from "../src/files/upload";
import { UploadQueue } from "../src/files/upload-queue";
import type { Attachment, FileUrl, Message } from "../src/types";
import type { TokenSource } from "../src/transport/auth-link";
import { message } from "./helpers";

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** An XMLHttpRequest whose answer the test gives. */
class FakeRequest implements UploadRequest {
  status = 0;
  responseText = "";
  headers: Record<string, string> = {};
  responseHeaders: Record<string, string> = {};
  url = "";
  sent: Blob | null = null;
  aborted = false;
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  upload: UploadRequest["upload"] = { onprogress: null };
  open(_method: string, url: string) {
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: Blob) {
    this.sent = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name] ?? null;
  }
  answer(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

const attachment = (id: string, name = `${id}.txt`): Attachment => ({ id, name, size: 5, contentType: "text/plain" });

function uploading(tokens: TokenSource = { accessToken: async () => "token-1", refresh: async () => "token-2" }) {
  const requests: FakeRequest[] = [];
  const progress: number[] = [];
  const controller = new AbortController();
  const result = uploadFile({
    baseUrl: "http://127.0.0.1:3000",
    conversationId: "c1",
    file: new Blob(["hello"]),
    name: "notes & plans.txt",
    tokens,
    signal: controller.signal,
    onProgress: (sent) => progress.push(sent),
    createRequest: () => {
      const request = new FakeRequest();
      requests.push(request);
      return request;
    },
  });
  return { requests, progress, controller, result };
}

describe("uploading a file", () => {
  it("posts the raw file with the token and its name, reports progress and resolves to the attachment", async () => {
    const { requests, progress, result } = uploading();
    await flush();
    const request = requests[0]!;
    expect(new URL(request.url).searchParams.get("name")).toBe("notes & plans.txt");
    expect(new URL(request.url).searchParams.get("conversationId")).toBe("c1");
    expect(request.headers.Authorization).toBe("Bearer token-1");
    expect(await request.sent?.text()).toBe("hello");
    request.upload.onprogress?.({ loaded: 2, total: 5, lengthComputable: true });
    request.upload.onprogress?.({ loaded: 5, total: 5, lengthComputable: true });
    request.answer(201, attachment("a1"));
    expect(await result).toEqual(attachment("a1"));
    expect(progress).toEqual([2, 5]);
  });

  it("says which file is over the limit the server names", async () => {
    const { requests, result } = uploading();
    await flush();
    requests[0]!.answer(413, { error: { message: `The file is larger than the limit of ${25 * 1024 * 1024} bytes`, status: 413 } });
    await expect(result).rejects.toMatchObject({ kind: "too_large", message: "notes & plans.txt is larger than the 25 MB limit." });
  });

  it("refreshes a refused token once and uploads again with the new one", async () => {
    const refreshed: (string | null)[] = [];
    const { requests, result } = uploading({ accessToken: async () => "stale", refresh: async (stale: string | null) => (refreshed.push(stale), "fresh") });
    await flush();
    requests[0]!.answer(401, { error: { message: "Missing, invalid or expired token", status: 401 } });
    await flush();
    expect(refreshed).toEqual(["stale"]);
    expect(requests[1]!.headers.Authorization).toBe("Bearer fresh");
    requests[1]!.answer(201, attachment("a1"));
    expect(await result).toEqual(attachment("a1"));
  });

  it("gives up after the second refusal, as logged out", async () => {
    const { requests, result } = uploading();
    await flush();
    requests[0]!.answer(401, {});
    await flush();
    requests[1]!.answer(401, {});
    await expect(result).rejects.toMatchObject({ kind: "unauthorized" });
    expect(requests).toHaveLength(2);
  });

  it("cancels when aborted", async () => {
    const { requests, controller, result } = uploading();
    await flush();
    controller.abort();
    await expect(result).rejects.toMatchObject({ kind: "cancelled" });
    expect(requests[0]!.aborted).toBe(true);
  });

  it("explains a failed connection", async () => {
    const { requests, result } = uploading();
    await flush();
    requests[0]!.onerror?.();
    await expect(result).rejects.toMatchObject({ kind: "network", message: expect.stringMatching(/can't reach Parley/) });
  });
});

describe("formatBytes", () => {
  it("reads like a file manager", () => {
    expect(formatBytes(1)).toBe("1 byte");
    expect(formatBytes(900)).toBe("900 bytes");
    expect(formatBytes(2048)).toBe("2 KB");
    expect(formatBytes(Math.round(2.4 * 1024 * 1024))).toBe("2.4 MB");
    expect(formatBytes(25 * 1024 * 1024)).toBe("25 MB");
  });
});

/** Uploads whose outcome the test decides. */
function queue() {
  const calls: { name: string; signal: AbortSignal; onProgress(sent: number): void; resolve(a: Attachment): void; reject(e: unknown): void }[] = [];
  const waits: number[] = [];
  const uploads = new UploadQueue({
    upload: ({ name, signal, onProgress }) => new Promise((resolve, reject) => calls.push({ name, signal, onProgress, resolve, reject })),
    concurrency: 2,
    wait: async (ms) => void waits.push(ms),
  });
  const files = (...names: string[]) => names.map((name) => new File(["12345"], name));
  return { uploads, calls, waits, files };
}

describe("a composer's uploads", () => {
  it("uploads two at a time, in order, with their progress", async () => {
    const { uploads, calls, files } = queue();
    uploads.add("c1", "c1", files("a", "b", "c"));
    expect(calls.map((c) => c.name)).toEqual(["a", "b"]);
    expect(uploads.getAll().map((u) => u.status)).toEqual(["uploading", "uploading", "queued"]);
    calls[0]!.onProgress(3);
    expect(uploads.getAll()[0]!.sent).toBe(3);
    calls[0]!.resolve(attachment("a1"));
    await flush();
    expect(calls.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(uploads.getAll()[0]).toMatchObject({ status: "done", attachment: attachment("a1") });
  });

  it("cancels an upload under way, takes it off, and starts the next", async () => {
    const { uploads, calls, files } = queue();
    uploads.add("c1", "c1", files("a", "b", "c"));
    const first = uploads.getAll()[0]!;
    uploads.remove(first.key);
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(uploads.getAll().map((u) => u.name)).toEqual(["b", "c"]);
    expect(calls.map((c) => c.name)).toEqual(["a", "b", "c"]);
  });

  it("tries again after the server's wait when too many run at once, and shows a failure in words", async () => {
    const { uploads, calls, waits, files } = queue();
    uploads.add("c1", "c1", files("a"));
    calls[0]!.reject(new UploadError("rate_limited", "too many", 2));
    await flush();
    expect(waits).toEqual([2000]);
    expect(calls).toHaveLength(2);
    calls[1]!.reject(new UploadError("too_large", "a is larger than the 25 MB limit."));
    await flush();
    expect(uploads.getAll()[0]).toMatchObject({ status: "failed", error: "a is larger than the 25 MB limit." });
  });

  it("keeps each composer's files apart, and clears one composer's after its message went", () => {
    const { uploads, files } = queue();
    uploads.add("c1", "c1", files("a"));
    uploads.add("c1/thread/9", "c1", files("b"));
    uploads.clear("c1");
    expect(uploads.getAll().map((u) => u.composer)).toEqual(["c1/thread/9"]);
  });
});

describe("signed URLs", () => {
  const urls = (id: string, expiresAt: number): FileUrl => ({ id, url: `/files/${id}/original?exp=${expiresAt}`, expiresAt: new Date(expiresAt).toISOString() });

  function cache() {
    let now = 1_000_000;
    const calls: string[][] = [];
    const urlCache = new FileUrlCache({
      fetch: async (ids) => {
        calls.push(ids);
        return ids.map((id) => urls(id, now + 20 * 60_000));
      },
      now: () => now,
    });
    return { urlCache, calls, advance: (ms: number) => (now += ms) };
  }

  it("asks once for the ids of one render, however many ask", async () => {
    const { urlCache, calls } = cache();
    urlCache.request(["a", "b"]);
    urlCache.request(["b", "c"]);
    await flush();
    expect(calls).toEqual([["a", "b", "c"]]);
    urlCache.request(["a", "b", "c"]);
    await flush();
    expect(calls).toHaveLength(1);
    expect(urlCache.get("a")?.url).toMatch(/^\/files\/a\//);
  });

  it("renews URLs before they expire, keeping the old ones meanwhile, and drops expired ones", async () => {
    const { urlCache, calls, advance } = cache();
    urlCache.request(["a"]);
    await flush();
    const first = urlCache.get("a");
    expect(urlCache.renewAt(["a"])).toBe(Date.parse(first!.expiresAt) - REFRESH_BEFORE_MS);
    advance(20 * 60_000 - REFRESH_BEFORE_MS + 1);
    expect(urlCache.get("a")).toEqual(first);
    urlCache.request(["a"]);
    await flush();
    expect(calls).toEqual([["a"], ["a"]]);
    expect(urlCache.get("a")?.expiresAt).not.toBe(first?.expiresAt);
    advance(21 * 60_000);
    expect(urlCache.get("a")).toBeUndefined();
  });

  it("waits before asking again after a failed call or for an id left out, instead of asking in a loop", async () => {
    let now = 0;
    let fail = true;
    const calls: string[][] = [];
    const urlCache = new FileUrlCache({
      fetch: async (ids) => {
        calls.push(ids);
        if (fail) throw new TypeError("Failed to fetch");
        return ids.filter((id) => id !== "hidden").map((id) => urls(id, now + 20 * 60_000));
      },
      now: () => now,
    });
    urlCache.request(["a", "hidden"]);
    await flush();
    urlCache.request(["a", "hidden"]);
    await flush();
    expect(calls).toHaveLength(1);
    expect(urlCache.renewAt(["a"])).toBe(RETRY_FAILED_MS);
    now = RETRY_FAILED_MS;
    fail = false;
    urlCache.request(["a", "hidden"]);
    await flush();
    expect(calls).toEqual([["a", "hidden"], ["a", "hidden"]]);
    expect(urlCache.get("a")).toBeDefined();
    urlCache.request(["hidden"]);
    await flush();
    expect(calls).toHaveLength(2);
  });

  it("splits more than the server's 100 ids into several calls", async () => {
    const { urlCache, calls } = cache();
    urlCache.request(Array.from({ length: 150 }, (_, i) => `f${i}`));
    await flush();
    await flush();
    expect(calls.map((c) => c.length)).toEqual([100, 50]);
  });
});

describe("a message with files", () => {
  function setup() {
    const store = new ChatStore("me", true);
    const calls: { input: SendInput; reject(e: unknown): void; resolve(m: Message): void }[] = [];
    const sender = new Sender({
      store,
      send: (input) => new Promise((resolve, reject) => calls.push({ input, resolve, reject })),
      newClientMessageId: () => "cm-1",
      now: () => Date.now(),
    });
    return { store, sender, calls };
  }

  it("is shown with its files while pending and sent with their ids; a retry sends the same ids with the same clientMessageId", async () => {
    const { store, sender, calls } = setup();
    const files = [attachment("a1"), attachment("a2")];
    sender.send("c1", "", { attachments: files });
    expect(buildTimeline({ pages: [], live: [], outbox: store.getState().outbox })).toMatchObject([{ status: "pending", attachments: files }]);
    expect(calls[0]!.input).toEqual({ conversationId: "c1", content: "", clientMessageId: "cm-1", attachmentIds: ["a1", "a2"] });
    calls[0]!.reject(Object.assign(new TypeError("Failed to fetch"), { data: undefined }));
    await flush();
    sender.wake();
    await flush();
    expect(calls[1]!.input).toEqual(calls[0]!.input);
    calls[1]!.resolve(message({ id: "10", senderId: "me", content: "", clientMessageId: "cm-1", attachments: files }));
    await flush();
    expect(buildTimeline({ pages: [], live: store.liveMessages("c1"), outbox: store.getState().outbox })).toMatchObject([{ status: "sent", attachments: files }]);
  });

  it("keeps its files when stored for a reload", () => {
    const { store, sender } = setup();
    sender.send("c1", "look", { attachments: [attachment("a1")] });
    expect(toStored(store.getState().outbox[0]!).attachments).toEqual([attachment("a1")]);
  });

  it("says so when a file of it is gone", async () => {
    const { store, sender, calls } = setup();
    sender.send("c1", "", { attachments: [attachment("a1")] });
    calls[0]!.reject(Object.assign(new Error("No such upload: a1"), { data: { code: "NOT_FOUND" } }));
    await flush();
    expect(store.getState().outbox[0]).toMatchObject({ status: "failed", error: "Not sent: one of its files is no longer available. Attach it again." });
  });
});

describe("files per message", () => {
  it("takes at most ten per composer and says how many did not fit", () => {
    const { uploads, files } = queue();
    expect(uploads.add("c1", "c1", files(...Array.from({ length: 8 }, (_, i) => `f${i}`)))).toBe(0);
    expect(uploads.add("c1", "c1", files("x", "y", "z"))).toBe(1);
    expect(uploads.getAll()).toHaveLength(10);
  });
});
