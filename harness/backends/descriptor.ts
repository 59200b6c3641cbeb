// A backend described in a YAML (or JSON) file, for `--backend PATH`: any implementation of
// the http-kv protocol (doc/protocol.md) plugs in without code of ours.
//
//   name: my-paxos
//   protocol: http-kv          # or maelstrom, etcd, zookeeper (harness/protocols/)
//   options: {}                # the protocol adapter's own options
//   local:                      # how to start one node (a local process; also in Docker, below)
//     command: ./build/my-node  # relative paths are relative to this file
//     args: [--id, "{id}", --listen, "{host}:{http_port}", --peers, "{peers}", --data, "{data_dir}"]
//     env: { RUST_LOG: info }
//   files: [./build/my-node, ./conf]   # Docker: what goes into its nodes' image, built FROM
//                                      #   scratch; host paths kept, executables' libraries too
//   image: my-node:1.2          # Docker, instead of files: an image in the local engine (never pulled)
//   container:                  # optional: another command inside the image (default: local's);
//     command: /app/dist/...    #   without files or image, inside the project's image
//     args: [...]
//   peer: "{id}={host}:{peer_port}"   # how each node is written in {peers}, joined by ","
//   start_timeout: 60           # seconds a node may take to get ready (default the runtime's)
//   write:                      # files written before each start of a node (local runtime):
//     "{data_dir}/node.conf": |  #   path (relative: in the node's data dir) -> text
//       id={n}
//       {peer_lines}
//
// protocol: maelstrom: `local.command` is the user's Maelstrom program (JSON lines on stdin
// and stdout); the loader runs it under our shim (protocols/maelstrom.ts), whose command line
// carries it. Under Docker only `container:` (a program in the project's image) is supported.
//
// Placeholders: {id} {host} {http_port} {peer_port} {data_dir} {peers}; {n}, the node's number
// (n3 -> 3); {peer_port+1}, the port after the peer port (a second peer port, e.g. ZooKeeper's
// election port); {peer_lines}, each node written by `peer:`, one per line. A backend runs in
// Docker when it has files, image or container; `write:` is for the local runtime only (the
// Docker runtime does not write files into containers), so it comes without them.

import { accessSync, constants, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { makeProtocol, protocolNames } from "../protocols/index.js";
import type {
  Backend,
  FileToWrite,
  NodeImage,
  NodeSpec,
  ProcessCommand,
  Protocol,
} from "../types.js";

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
  protocol: z.string({ error: `must be one of ${protocolNames().join(", ")}` }),
  /** The protocol adapter's own options (harness/protocols/), checked by the adapter. */
  options: z.record(z.string(), z.unknown(), { error: "must be a map" }).default({}),
  local: command,
  container: command.optional(),
  files: z
    .array(z.string().min(1, { error: "must not be empty" }), {
      error: "must be a list of host paths",
    })
    .min(1, { error: "must list at least one path" })
    .optional(),
  image: z
    .string({ error: "must be an image name in the local engine" })
    .min(1, { error: "must not be empty" })
    .optional(),
  peer: z.string().default("{id}={host}:{peer_port}"),
  /** Seconds a node may take to get ready (default: the runtime's, 20 s locally). */
  start_timeout: z
    .number({ error: "must be a number of seconds" })
    .positive({ error: "must be more than 0 seconds" })
    .max(3600, { error: "must be at most 3600 seconds" })
    .optional(),
  /** Files written before each start of a node: path template -> text template. */
  write: z
    .record(z.string().min(1, { error: "must not be empty" }), z.string(), {
      error: "must map file paths to texts",
    })
    .default({}),
});

type Descriptor = z.infer<typeof schema>;

const PLACEHOLDER = /\{(id|n|host|http_port|peer_port|peer_port\+1|data_dir|peers|peer_lines)\}/g;

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
  let protocol: Protocol;
  try {
    protocol = makeProtocol(d.protocol, d.options);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`${file}: ${why.startsWith("options.") ? why : `protocol: ${why}`}`);
  }
  const dir = path.dirname(path.resolve(file));
  const nodeImage = imageOf(file, d, dir);
  const writes = Object.entries(d.write);
  if (writes.length > 0 && (d.container || nodeImage)) {
    const other = d.container ? "container" : d.image ? "image" : "files";
    throw new Error(
      `${file}: write: is for the local runtime only (the Docker runtime does not write files into containers): drop ${other} or write`,
    );
  }
  const fill = (text: string, node: NodeSpec, cluster: readonly NodeSpec[]): string =>
    text.replace(PLACEHOLDER, (_, name: string): string => {
      if (name === "peers") return cluster.map((n): string => fill(d.peer, n, cluster)).join(",");
      if (name === "peer_lines") {
        return cluster.map((n): string => fill(d.peer, n, cluster)).join("\n");
      }
      const values: Record<string, string> = {
        id: node.id,
        n: nodeNumber(node.id),
        host: node.host,
        http_port: String(node.httpPort),
        peer_port: String(node.peerPort),
        "peer_port+1": String(node.peerPort + 1),
        data_dir: node.dataDir,
      };
      return values[name] as string;
    });
  // Relative paths land in the node's data dir; texts are written as filled, nothing added.
  const files = (node: NodeSpec, cluster: readonly NodeSpec[]): FileToWrite[] =>
    writes.map(([p, text]) => ({
      path: path.resolve(node.dataDir, fill(p, node, cluster)),
      text: fill(text, node, cluster),
    }));
  const make =
    (c: z.infer<typeof command>, base: string | undefined, place: "local" | "container") =>
    (node: NodeSpec, cluster: readonly NodeSpec[]): ProcessCommand => {
      const written: ProcessCommand = {
        command: base && c.command.startsWith(".") ? path.resolve(base, c.command) : c.command,
        args: c.args.map((a) => fill(a, node, cluster)),
        env: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, fill(v, node, cluster)])),
        ...(writes.length > 0 ? { files: files(node, cluster) } : {}),
      };
      return protocol.wrap ? protocol.wrap(written, node, cluster, place) : written;
    };
  // A protocol whose shim is ours (Node.js and dist/) runs in the project's image only.
  if (protocol.wrap && nodeImage) {
    throw new Error(
      `${file}: ${nodeImage.kind === "files" ? "files" : "image"}: protocol ${d.protocol} runs its nodes under a shim of ours in the project's image: give container: (a program in that image) instead`,
    );
  }
  // In an image of files, paths are host paths: relative ones resolve as locally.
  const inContainer = d.container ?? (nodeImage ? d.local : undefined);
  const base = nodeImage?.kind === "files" || inContainer === d.local ? dir : undefined;
  return {
    name: d.name,
    protocol,
    localCommand: make(d.local, dir, "local"),
    ...(inContainer ? { containerCommand: make(inContainer, base, "container") } : {}),
    ...(nodeImage ? { nodeImage } : {}),
    ...(d.start_timeout !== undefined ? { startTimeoutMs: d.start_timeout * 1000 } : {}),
  };
}

/** {n}: the number in a node's id (n3 -> "3"), the id itself when it has none. */
function nodeNumber(id: string): string {
  return /(\d+)$/.exec(id)?.[1] ?? id;
}

/**
 * `files:` (resolved against the descriptor's folder, each one there; the command run in the
 * container among them and executable) or `image:`; throws naming the file and the field.
 */
function imageOf(file: string, d: Descriptor, dir: string): NodeImage | undefined {
  if (d.files && d.image) throw new Error(`${file}: files and image: give one of them, not both`);
  if (d.image) return { kind: "image", image: d.image };
  if (!d.files) return undefined;
  const files = d.files.map((f) => path.resolve(dir, f));
  files.forEach((f, i) => {
    try {
      statSync(f);
    } catch {
      throw new Error(`${file}: files.${i}: ${f} does not exist`);
    }
  });
  const field = d.container ? "container.command" : "local.command";
  // As make() resolves it: "./..." against this file's folder, anything else as written.
  const written = (d.container ?? d.local).command;
  const program = written.startsWith(".") ? path.resolve(dir, written) : written;
  const i = files.findIndex((f) => program === f || program.startsWith(`${f}/`));
  if (i < 0)
    throw new Error(`${file}: ${field}: ${program} is not in files (the image has only those)`);
  try {
    if (!statSync(program).isFile()) throw new Error("not a file");
    accessSync(program, constants.X_OK);
  } catch {
    throw new Error(`${file}: files.${i}: ${program} is not executable (it is ${field})`);
  }
  return { kind: "files", files };
}
