// The maelstrom protocol: a node is the user's Maelstrom program (JSON lines on stdin and
// stdout) under our shim (harness/maelstrom/), which speaks http-kv to the harness. So the
// adapter is the http-kv adapter by another name, plus `wrap`: the descriptor's command line
// becomes the shim's, with the program and its arguments after `--`.

import { imageCommand, scriptArgs } from "../backends/script.js";
import type { NodeSpec, ProcessCommand, Protocol } from "../types.js";
import { httpKvProtocol } from "./http-kv.js";

export function maelstromProtocol(): Protocol {
  return { ...httpKvProtocol("maelstrom"), wrap: shimCommand };
}

/** The shim's command line for one node, running `program`. */
export function shimCommand(
  program: ProcessCommand,
  node: NodeSpec,
  cluster: readonly NodeSpec[],
  place: "local" | "container",
): ProcessCommand {
  const args = [
    ...["--id", node.id, "--host", node.host, "--http-port", String(node.httpPort)],
    ...["--peer-port", String(node.peerPort)],
    ...["--peers", cluster.map((n) => `${n.id}=${n.host}:${n.peerPort}`).join(",")],
    ...["--", program.command, ...program.args],
  ];
  const shim =
    place === "local"
      ? { command: process.execPath, args: [...scriptArgs("harness/maelstrom/main"), ...args] }
      : imageCommand("harness/maelstrom/main.js", args);
  return program.env === undefined ? shim : { ...shim, env: program.env };
}
