// Small helpers for what the CLI prints.

/** "1 partition", "2 partitions"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
