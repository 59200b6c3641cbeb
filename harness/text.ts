// Small helpers for what the CLI prints.

/** "1 partition", "2 partitions"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Every illegal partition named, and those left unknown: "illegal keys: 0, 3, 7 (of 10); left
 * unknown: 4". Empty for a history of one unnamed partition (a single register).
 */
export function keysVerdict(
  illegal: readonly string[],
  unknown: readonly string[],
  total: number,
  noun = "keys",
): string {
  const named = (labels: readonly string[]) => labels.some((l) => l !== "");
  const parts: string[] = [];
  if (illegal.length > 0 && named(illegal))
    parts.push(`illegal ${noun}: ${illegal.join(", ")} (of ${total})`);
  if (unknown.length > 0 && named(unknown)) parts.push(`left unknown: ${unknown.join(", ")}`);
  return parts.join("; ");
}
