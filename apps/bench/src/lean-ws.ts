// A minimal WebSocket client (RFC 6455) for the load generator only. At tens of thousands of
// deliveries a second, the `ws` client's costs per frame (its Receiver is a Writable stream, each
// message is a Buffer of its own and an event) use more of the generator's core than the server
// it measures uses of its own. Here each socket reads into one buffer shared by every connection
// (net's `onread`, no Buffer and no stream event per read) and each message is handed on as a
// range of that buffer, valid only during the call. Only what the bench needs: ws:// URLs, no
// extensions, text frames out (masked, as clients must), text or binary frames in.
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { connect, type Socket } from "node:net";

export interface LeanHandlers {
  /** The handshake is done: send() may be called. */
  onOpen(): void;
  /**
   * A whole message (text or binary) is `buffer[start, end)`; the buffer is reused once this
   * returns. `receivedAt` is performance.now() when the read that completed it returned.
   */
  onMessage(buffer: Buffer, start: number, end: number, receivedAt: number): void;
  /** The TCP connection is gone (after a close handshake, an error or terminate()); called once. */
  onClose(): void;
  /** Before onClose, when the connection failed: refused, a bad handshake, a protocol error. */
  onError(error: Error): void;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** One read buffer for every socket: each read is handed to its callback before the next starts. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
/** Longer messages than this are a protocol error here (the bench's are a few hundred bytes). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A handshake answer longer than this is not one. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

// Masking keys come from a pool of random bytes refilled when used up: a fresh key per frame,
// without a call into the random source per frame.
const maskPool = Buffer.allocUnsafe(4096);
let maskOffset = maskPool.length;

function nextMaskOffset(): number {
  if (maskOffset + 4 > maskPool.length) {
    randomFillSync(maskPool);
    maskOffset = 0;
  }
  const offset = maskOffset;
  maskOffset += 4;
  return offset;
}

/**
 * A masked client frame with `payload` bytes of room after the header, and where they start. The
 * masking key is written; the caller writes the payload, then calls maskPayload().
 */
function frameFor(opcode: number, payload: number): { frame: Buffer; start: number } {
  const start = payload < 126 ? 6 : payload < 65_536 ? 8 : 14;
  const frame = Buffer.allocUnsafe(start + payload);
  frame[0] = 0x80 | opcode;
  if (payload < 126) {
    frame[1] = 0x80 | payload;
  } else if (payload < 65_536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(payload, 6);
  }
  maskPool.copy(frame, start - 4, nextMaskOffset(), maskOffset);
  return { frame, start };
}

/** XORs the payload after the header with the frame's masking key (the four bytes before it). */
function maskPayload(frame: Buffer, start: number): void {
  const k0 = frame[start - 4] ?? 0;
  const k1 = frame[start - 3] ?? 0;
  const k2 = frame[start - 2] ?? 0;
  const k3 = frame[start - 1] ?? 0;
  const end = frame.length;
  let i = start;
  for (; i + 3 < end; i += 4) {
    frame[i] = (frame[i] ?? 0) ^ k0;
    frame[i + 1] = (frame[i + 1] ?? 0) ^ k1;
    frame[i + 2] = (frame[i + 2] ?? 0) ^ k2;
    frame[i + 3] = (frame[i + 3] ?? 0) ^ k3;
  }
  for (let k = 0; i < end; i += 1, k += 1) frame[i] = (frame[i] ?? 0) ^ (frame[start - 4 + k] ?? 0);
}

/** A whole masked client frame carrying `payload`. */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const { frame, start } = frameFor(opcode, payload.length);
  payload.copy(frame, start);
  maskPayload(frame, start);
  return frame;
}

/** How long a server frame's header is, from its first `available` bytes; 0 if that is unknown yet. */
function headerLength(buffer: Buffer, at: number, available: number): number {
  if (available < 2) return 0;
  const length7 = (buffer[at + 1] ?? 0) & 0x7f;
  return length7 < 126 ? 2 : length7 === 126 ? 4 : 10;
}

/** The payload length in a complete header at `at`; -1 if it is over MAX_MESSAGE_BYTES. */
function payloadLength(buffer: Buffer, at: number): number {
  const length7 = (buffer[at + 1] ?? 0) & 0x7f;
  if (length7 < 126) return length7;
  if (length7 === 126) return buffer.readUInt16BE(at + 2);
  const high = buffer.readUInt32BE(at + 2);
  const low = buffer.readUInt32BE(at + 6);
  return high === 0 && low <= MAX_MESSAGE_BYTES ? low : -1;
}

type State = "connecting" | "open" | "closing" | "closed";

export class LeanWebSocket {
  private state: State = "connecting";
  private readonly socket: Socket;
  private readonly expectedAccept: string;
  /** The handshake answer read so far (only while connecting). */
  private handshake = "";
  /** A frame's first bytes, when a read ended inside its header. */
  private readonly head = Buffer.alloc(10);
  private headFilled = 0;
  /** A frame (header included) that a read ended inside, once its length is known. */
  private partial: Buffer | null = null;
  private partialFilled = 0;
  private partialHeader = 0;
  /** The parts of a fragmented message so far (servers here do not fragment; kept for correctness). */
  private fragments: Buffer[] | null = null;
  private fragmentsBytes = 0;
  private closeSent = false;
  private failed = false;

  constructor(
    url: string,
    private readonly handlers: LeanHandlers,
  ) {
    const parsed = new URL(url);
    if (parsed.protocol !== "ws:") throw new Error(`only ws:// URLs are supported, not ${parsed.protocol}`);
    const key = randomBytes(16).toString("base64");
    this.expectedAccept = createHash("sha1")
      .update(key + GUID)
      .digest("base64");
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    const port = Number(parsed.port || 80);
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (bytes: number, buffer: Uint8Array) => this.onRead(bytes, buffer as Buffer) },
    });
    this.socket.on("connect", () => {
      this.socket.write(
        `GET ${parsed.pathname}${parsed.search} HTTP/1.1\r\nHost: ${parsed.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on("error", (error) => this.fail(error));
    this.socket.on("close", () => {
      const was = this.state;
      this.state = "closed";
      if (was !== "closed") this.handlers.onClose();
    });
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** Sends a text message (a no-op unless open). */
  send(text: string): void {
    if (this.state !== "open") return;
    const { frame, start } = frameFor(OP_TEXT, Buffer.byteLength(text));
    frame.write(text, start);
    maskPayload(frame, start);
    this.socket.write(frame);
  }

  /** Starts the close handshake; the connection ends when the server answers (or terminate() ends it). */
  close(code = 1000): void {
    if (this.state === "connecting") {
      this.terminate();
      return;
    }
    if (this.state !== "open") return;
    this.state = "closing";
    this.sendClose(code);
  }

  /** Drops the TCP connection at once. */
  terminate(): void {
    if (this.state === "closed") return;
    if (this.state !== "closing") this.state = "closing";
    this.socket.destroy();
  }

  private sendClose(code: number): void {
    if (this.closeSent) return;
    this.closeSent = true;
    const payload = Buffer.allocUnsafe(2);
    payload.writeUInt16BE(code, 0);
    this.socket.write(clientFrame(OP_CLOSE, payload));
  }

  private fail(error: Error): void {
    if (this.failed || this.state === "closed") return;
    this.failed = true;
    this.handlers.onError(error);
    this.terminate();
  }

  private onRead(bytes: number, buffer: Buffer): boolean {
    if (bytes <= 0 || this.state === "closed" || this.failed) return true;
    const receivedAt = performance.now();
    let position = 0;
    if (this.state === "connecting") {
      position = this.readHandshake(buffer, bytes);
      if (position < 0) return true;
    }
    this.readFrames(buffer, position, bytes, receivedAt);
    return true;
  }

  /** Reads the server's 101 answer; returns where the frames after it begin, -1 if it is not over (or failed). */
  private readHandshake(buffer: Buffer, end: number): number {
    const before = this.handshake.length;
    this.handshake += buffer.toString("latin1", 0, end);
    const headerEnd = this.handshake.indexOf("\r\n\r\n");
    if (headerEnd < 0) {
      if (this.handshake.length > MAX_HANDSHAKE_BYTES) this.fail(new Error("handshake answer too long"));
      return -1;
    }
    const head = this.handshake.slice(0, headerEnd);
    this.handshake = "";
    const [statusLine = "", ...lines] = head.split("\r\n");
    if (!/^HTTP\/1\.1 101 /.test(`${statusLine} `)) {
      this.fail(new Error(`unexpected server response: ${statusLine}`));
      return -1;
    }
    let accept: string | null = null;
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === "sec-websocket-accept") accept = line.slice(colon + 1).trim();
    }
    if (accept !== this.expectedAccept) {
      this.fail(new Error("invalid Sec-WebSocket-Accept header"));
      return -1;
    }
    this.state = "open";
    this.handlers.onOpen();
    // The bytes of this read after the blank line are the first frames.
    return headerEnd + 4 - before;
  }

  /** Every frame in `buffer[position, end)`, the end of one that an earlier read began first. */
  private readFrames(buffer: Buffer, start: number, end: number, receivedAt: number): void {
    let position = start;
    if (this.headFilled > 0 || this.partial !== null) position = this.assemble(buffer, position, end, receivedAt);
    while (position < end && !this.failed && this.state !== "closed") {
      const available = end - position;
      const header = headerLength(buffer, position, available);
      if (header === 0 || available < header) break;
      const length = payloadLength(buffer, position);
      if (length < 0) {
        this.fail(new Error("message too long"));
        return;
      }
      if (available < header + length) break;
      this.onFrame(buffer[position] ?? 0, buffer[position + 1] ?? 0, buffer, position + header, position + header + length, receivedAt);
      position += header + length;
    }
    // What is left is the start of a frame the next read completes: keep a copy (the buffer is reused).
    if (position < end && !this.failed) this.assemble(buffer, position, end, receivedAt);
  }

  /**
   * Moves bytes into the frame being put together across reads, handling it once it is whole;
   * returns where the bytes it did not need begin.
   */
  private assemble(buffer: Buffer, start: number, end: number, receivedAt: number): number {
    let position = start;
    if (this.partial === null) {
      while (position < end) {
        this.head[this.headFilled] = buffer[position] ?? 0;
        this.headFilled += 1;
        position += 1;
        const header = headerLength(this.head, 0, this.headFilled);
        if (header > 0 && this.headFilled === header) {
          const length = payloadLength(this.head, 0);
          if (length < 0) {
            this.fail(new Error("message too long"));
            return end;
          }
          this.partial = Buffer.allocUnsafe(header + length);
          this.head.copy(this.partial, 0, 0, header);
          this.partialFilled = header;
          this.partialHeader = header;
          this.headFilled = 0;
          break;
        }
      }
      if (this.partial === null) return position;
    }
    const frame = this.partial;
    const take = Math.min(frame.length - this.partialFilled, end - position);
    buffer.copy(frame, this.partialFilled, position, position + take);
    this.partialFilled += take;
    position += take;
    if (this.partialFilled === frame.length) {
      this.partial = null;
      this.onFrame(frame[0] ?? 0, frame[1] ?? 0, frame, this.partialHeader, frame.length, receivedAt);
    }
    return position;
  }

  private onFrame(first: number, second: number, buffer: Buffer, start: number, end: number, receivedAt: number): void {
    if ((first & 0x70) !== 0 || (second & 0x80) !== 0) {
      this.fail(new Error("invalid frame: reserved bits set or masked by the server"));
      return;
    }
    const final = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    switch (opcode) {
      case OP_TEXT:
      case OP_BINARY:
        if (this.fragments !== null) {
          this.fail(new Error("invalid frame: new message inside a fragmented one"));
          return;
        }
        if (final) {
          if (this.state === "open" || this.state === "closing") this.handlers.onMessage(buffer, start, end, receivedAt);
        } else {
          this.fragments = [Buffer.from(buffer.subarray(start, end))];
          this.fragmentsBytes = end - start;
        }
        return;
      case OP_CONTINUATION: {
        if (this.fragments === null) {
          this.fail(new Error("invalid frame: continuation without a message"));
          return;
        }
        this.fragments.push(Buffer.from(buffer.subarray(start, end)));
        this.fragmentsBytes += end - start;
        if (this.fragmentsBytes > MAX_MESSAGE_BYTES) {
          this.fail(new Error("message too long"));
          return;
        }
        if (final) {
          const whole = Buffer.concat(this.fragments, this.fragmentsBytes);
          this.fragments = null;
          this.fragmentsBytes = 0;
          this.handlers.onMessage(whole, 0, whole.length, receivedAt);
        }
        return;
      }
      case OP_PING:
        if (!final || end - start > 125) {
          this.fail(new Error("invalid ping frame"));
          return;
        }
        if (this.state === "open") this.socket.write(clientFrame(OP_PONG, Buffer.from(buffer.subarray(start, end))));
        return;
      case OP_PONG:
        return;
      case OP_CLOSE: {
        // Answer with the same code (as RFC 6455 asks), then end our side; the server closes TCP.
        const code = end - start >= 2 ? buffer.readUInt16BE(start) : 1000;
        if (this.state === "open") this.state = "closing";
        this.sendClose(code);
        this.socket.end();
        return;
      }
      default:
        this.fail(new Error(`invalid frame: opcode ${opcode}`));
    }
  }
}
