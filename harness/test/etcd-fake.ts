// A fake etcd KV service (gRPC, etcd3's own rpc.proto) on 127.0.0.1: each test says how every
// call is answered, and it records what arrived, so tests can see what the etcd client sends
// (the txn's compare, the serializable flag) and that it never sends a call twice.

import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ROOT } from "./run-cli.js";

export type KvMethod = "Range" | "Put" | "DeleteRange" | "Txn";

/** How the fake answers a call: a reply, an error (code and details), or nothing at all. */
export type Answer =
  | { reply: Record<string, unknown> }
  | { code: grpc.status; details: string }
  | { hang: true };

export interface FakeEtcd {
  url: string;
  /** Every call that arrived, in order: its method and request. */
  calls: { method: KvMethod; request: Record<string, unknown> }[];
  /** How the next calls are answered (default: an empty reply). */
  answer: (method: KvMethod, request: Record<string, unknown>) => Answer;
  close(): Promise<void>;
}

const definition = loadSync(path.join(ROOT, "node_modules/etcd3/proto/rpc.proto"), {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const etcdserverpb = (grpc.loadPackageDefinition(definition) as Record<string, unknown>)
  .etcdserverpb as { KV: { service: grpc.ServiceDefinition } };

export async function startFakeEtcd(): Promise<FakeEtcd> {
  const server = new grpc.Server();
  const hanging: grpc.sendUnaryData<unknown>[] = [];
  const fake: FakeEtcd = {
    url: "",
    calls: [],
    answer: () => ({ reply: {} }),
    close: () =>
      new Promise((resolve) => {
        server.forceShutdown();
        hanging.length = 0;
        resolve();
      }),
  };
  const handler =
    (method: KvMethod) =>
    (
      call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      fake.calls.push({ method, request: call.request });
      const a = fake.answer(method, call.request);
      if ("hang" in a) hanging.push(callback);
      else if ("code" in a) callback({ code: a.code, details: a.details });
      else callback(null, a.reply);
    };
  server.addService(etcdserverpb.KV.service, {
    Range: handler("Range"),
    Put: handler("Put"),
    DeleteRange: handler("DeleteRange"),
    Txn: handler("Txn"),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  fake.url = `http://127.0.0.1:${port}`;
  return fake;
}
