// How the load client speaks to ours (doc/protocol.md's http-kv): `PUT`/`GET /kv/:key`, with a
// session per client, or anonymous (no x-client-id: the node gives each request a session of its
// own). A read of a key never written is a 404, an answer too.

import { httpCall } from "../test/procs.js";
import type { Send } from "./load.js";

export function sendOurs(session: "per-client" | "anonymous"): Send {
  return async (r) => {
    const res = await httpCall(
      r.target.host,
      r.target.port,
      r.kind === "write" ? "PUT" : "GET",
      `/kv/${r.key}`,
      r.kind === "write" ? { value: r.seq } : undefined,
      {
        agent: r.agent,
        timeoutMs: r.timeoutMs,
        ...(session === "per-client"
          ? { headers: { "x-client-id": r.client, "x-seq": String(r.seq) } }
          : {}),
      },
    );
    return res.status === 200 || res.status === 404 ? true : `HTTP ${res.status}`;
  };
}
