// Length-prefixed JSON frames on a byte stream: [u32 BE length][JSON bytes].

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class FrameError extends Error {
  override readonly name = "FrameError";
}

/**
 * Encodes one frame. A body over `maxFrameBytes` (the limit every decoder enforces) is refused
 * here with a FrameError: sent, it would only make the receiver drop the connection, again and
 * again.
 */
export function encodeFrame(value: unknown, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError("a frame must be JSON-serializable");
  const body = Buffer.from(json, "utf8");
  if (body.length > maxFrameBytes) {
    throw new FrameError(`frame of ${body.length} bytes exceeds the ${maxFrameBytes} limit`);
  }
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/**
 * Accumulates stream chunks and yields whole frames. Throws FrameError on an oversized length
 * or a body that is not JSON; the stream is unusable after that (framing is lost), so the
 * caller must drop the connection.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: unknown[] = [];
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        throw new FrameError(`frame of ${length} bytes exceeds the ${this.maxFrameBytes} limit`);
      }
      if (this.buffered < 4 + length) break;
      const body = this.take(4 + length).subarray(4);
      try {
        frames.push(JSON.parse(body.toString("utf8")));
      } catch (error) {
        throw new FrameError(`frame is not JSON: ${(error as Error).message}`);
      }
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }
}
