// A backend described in a YAML (or JSON) file, for `--backend PATH`: any implementation of
// the http-kv protocol (node/README.md) plugs in without code of ours.
//
//   name: my-paxos
//   protocol: http-kv
//   local:                      # how to start one node as a local process
//     command: ./build/my-node  # relative paths are relative to this file
//     args: [--id, "{id}", --listen, "{host}:{http_port}", --peers, "{peers}", --data, "{data_dir}"]
//     env: { RUST_LOG: info }
//   container:                  # optional: the same inside the project's image
//     command: /app/dist/...    #   (Docker runtime)
//     args: [...]
//   peer: "{id}={host}:{peer_port}"   # how each node is written in {peers}, joined by ","
//
// Placeholders: {id} {host} {http_port} {peer_port} {data_dir} {peers}.

import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import type { Backend, NodeSpec, ProcessCommand } from "../types.js";

const command = z.strictObject(
  {
    command: z.string({ error: "must be a program path" }).min(1, { error: "must not be empty" }),
    args: z.array(z.string(), { error: "must be a list of strings" }).default([]),
    env: z.record(z.string(), z.string(), { error: "must map names to strings" }).default({}),
  },
  { error: "must be a map with command (and optionally args, env)" },
);

const schema = z.strictObject({
  name: z.string({ error: "must be a name" }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    error: "must be letters, digits, . _ -",
  }),
  protocol: z.literal("http-kv", { error: 'must be "http-kv" (the only protocol so far)' }),
  local: command,
  container: command.optional(),
  peer: z.string().default("{id}={host}:{peer_port}"),
});

const PLACEHOLDER = /\{(id|host|http_port|peer_port|data_dir|peers)\}/g;

/** Reads a descriptor; throws one line naming the file and the field at fault. */
export function loadBackendDescriptor(file: string): Backend {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, "utf8"));
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code ??
      (err instanceof Error ? err.message.split("\n")[0] : err);
    throw new Error(`${file}: cannot read the backend descriptor: ${why}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "(the document)";
    throw new Error(`${file}: ${field} ${issue?.message ?? "is invalid"}`);
  }
  const d = parsed.data;
  const dir = path.dirname(path.resolve(file));
  const fill = (text: string, node: NodeSpec, cluster: readonly NodeSpec[]): string =>
    text.replace(PLACEHOLDER, (_, name: string): string => {
      if (name === "peers") return cluster.map((n): string => fill(d.peer, n, cluster)).join(",");
      const values: Record<string, string> = {
        id: node.id,
        host: node.host,
        http_port: String(node.httpPort),
        peer_port: String(node.peerPort),
        data_dir: node.dataDir,
      };
      return values[name] as string;
    });
  const make =
    (c: z.infer<typeof command>, base: string | undefined) =>
    (node: NodeSpec, cluster: readonly NodeSpec[]): ProcessCommand => ({
      command: base && c.command.startsWith(".") ? path.resolve(base, c.command) : c.command,
      args: c.args.map((a) => fill(a, node, cluster)),
      env: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, fill(v, node, cluster)])),
    });
  return {
    name: d.name,
    protocol: d.protocol,
    localCommand: make(d.local, dir),
    ...(d.container ? { containerCommand: make(d.container, undefined) } : {}),
  };
}
