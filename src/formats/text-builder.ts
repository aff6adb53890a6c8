import type { OmittedPart, TextSegment } from '../core/clinical-document.ts';

/** Joins parts with "\n" and records where each part's text lies (UTF-16 offsets). */
export class TextBuilder {
  private parts: string[] = [];
  private length = 0;
  readonly segments: TextSegment[] = [];
  readonly omitted: OmittedPart[] = [];

  add(text: string, origin: string): void {
    if (this.parts.length > 0) {
      this.parts.push('\n');
      this.length += 1;
    }
    this.parts.push(text);
    this.segments.push({ start: this.length, end: this.length + text.length, origin });
    this.length += text.length;
  }

  omit(part: OmittedPart): void {
    this.omitted.push(part);
  }

  get isEmpty(): boolean {
    return this.parts.length === 0;
  }

  text(): string {
    return this.parts.join('');
  }

  /** True when there is no non-white-space character in the text. */
  isBlank(): boolean {
    return this.parts.every((p) => p.trim() === '');
  }
}
