import type { TableName } from "../../src/model/tables.ts";
import type { DirFileSource } from "../../src/query/dir-source.ts";
import type { FileQuery, FileSource } from "../../src/query/types.ts";

/** The catalog as the sink grows it: files become visible when the test says so (up to an id). */
export class RevealingSource implements FileSource {
  constructor(
    readonly inner: DirFileSource,
    public visibleMaxId: number,
  ) {}
  files(q: FileQuery) {
    return this.inner.files(q).filter((f) => f.maxId <= this.visibleMaxId);
  }
  maxId(table: TableName, symbol: string) {
    const ids = this.files({ table, symbol }).map((f) => f.maxId);
    return ids.length ? Math.max(...ids) : undefined;
  }
  coverage() {
    return this.inner.coverage();
  }
}
