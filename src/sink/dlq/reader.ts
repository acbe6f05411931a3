/**
 * Replay of the dead-letter folder: entries in file order, then line order, byte-exact frames.
 * A torn last line (the process died mid-write) or any unreadable line is skipped and passed
 * to `onBadLine`, never thrown, so one damaged file cannot block the replay of the others.
 */
import { nodeSinkFs, type SinkFs } from "../wal/fs.ts";
import { type DlqEntry, decodeDlqLine, parseDlqFileName } from "./format.ts";

export interface ReadDlqOptions {
  readonly fs?: SinkFs;
  /** `line` is 1-based within `file`. */
  readonly onBadLine?: (file: string, line: number, reason: string) => void;
}

export function* readDlq(dir: string, opts: ReadDlqOptions = {}): Generator<DlqEntry, void, undefined> {
  const fs = opts.fs ?? nodeSinkFs;
  const files: [number, string][] = [];
  for (const name of fs.readdir(dir)) {
    const seq = parseDlqFileName(name);
    if (seq !== null) files.push([seq, name]);
  }
  files.sort((a, b) => a[0] - b[0]);
  const decoder = new TextDecoder();
  for (const [, name] of files) {
    const text = decoder.decode(fs.readFile(`${dir}/${name}`));
    const lines = text.split("\n");
    // Text after the last newline is a line whose write did not finish.
    const torn = lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === "") continue;
      const e = decodeDlqLine(line);
      if (typeof e === "string") opts.onBadLine?.(name, i + 1, e);
      else yield e;
    }
    if (torn) opts.onBadLine?.(name, lines.length + 1, "torn last line (no newline)");
  }
}
