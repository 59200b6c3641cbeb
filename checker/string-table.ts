// Interns strings into a table, so that a page's data can hold small indices instead of the
// same key, value or name over and over (the visualization's and the report's columns).

export class StringTable {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();

  /** The string's index, added at the end the first time it is seen. */
  add(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}
