/**
 * MLLP framing on a byte stream (HL7 v2 over TCP, "Minimal Lower Layer Protocol"):
 * each message is <VT 0x0B> bytes <FS 0x1C><CR 0x0D>. Pure and incremental: feed
 * chunks, get whole frames or framing errors. Bytes outside a frame (other than
 * line breaks between frames) are a framing error; a frame over `maxBytes` is
 * reported as oversize as soon as it passes the bound (its rest is skipped), so a
 * sender cannot make us buffer without limit.
 */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type FrameEvent = { kind: 'frame'; bytes: Buffer } | { kind: 'error'; code: 'FRAMING' | 'OVERSIZE'; message: string };

export class MllpDecoder {
  private buf: Buffer[] = [];
  private size = 0;
  private inFrame = false;
  private skipping = false;
  private junk = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): FrameEvent[] {
    const out: FrameEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (!this.inFrame) {
        const b = chunk[i]!;
        if (b === VT) {
          if (this.junk > 0) out.push({ kind: 'error', code: 'FRAMING', message: `${this.junk} byte(s) outside an MLLP frame` });
          this.junk = 0;
          this.inFrame = true;
          this.skipping = false;
          this.buf = [];
          this.size = 0;
        } else if (b !== CR && b !== 0x0a) {
          this.junk++;
        }
        i++;
        continue;
      }
      const end = chunk.indexOf(FS, i);
      const stop = end === -1 ? chunk.length : end;
      if (!this.skipping) {
        const part = chunk.subarray(i, stop);
        this.size += part.length;
        if (this.size > this.maxBytes) {
          this.skipping = true;
          this.buf = [];
          out.push({ kind: 'error', code: 'OVERSIZE', message: `message over the limit of ${this.maxBytes} bytes` });
        } else {
          this.buf.push(Buffer.from(part));
        }
      }
      if (end === -1) break;
      // FS ends the frame; the CR after it is optional in practice (consumed when present).
      if (!this.skipping) out.push({ kind: 'frame', bytes: Buffer.concat(this.buf) });
      this.inFrame = false;
      this.skipping = false;
      this.buf = [];
      this.size = 0;
      i = end + 1;
      if (chunk[i] === CR) i++;
    }
    return out;
  }

  /** Bytes received that never formed a frame (at connection end). */
  pending(): number {
    return this.inFrame ? this.size : this.junk;
  }
}

export function frame(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([VT]), bytes, Buffer.from([FS, CR])]);
}
