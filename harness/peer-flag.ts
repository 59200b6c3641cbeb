// The `--peers id=host:port,...` flag that the project's node programs take (the Maelstrom
// shim, the memory store): one parser, so that both refuse the same bad entries the same way.

export interface PeerAddress {
  id: string;
  host: string;
  port: number;
}

/** The peers of a `--peers` value, or a one-line error naming the bad entry. */
export function parsePeerFlag(text: string): PeerAddress[] | { error: string } {
  const peers: PeerAddress[] = [];
  for (const entry of text.split(",").filter((s) => s !== "")) {
    const m = /^([^=]+)=(.+):(\d+)$/.exec(entry);
    if (m === null) return { error: `--peers: bad entry "${entry}" (want id=host:port)` };
    peers.push({ id: m[1] as string, host: m[2] as string, port: Number(m[3]) });
  }
  return peers;
}
