#!/usr/bin/env python3
"""A linearizable lin-kv node for Maelstrom (and paxos-harness's maelstrom protocol).

The first node (n1) holds the data and applies every operation in the order it gets them;
every other node forwards its clients' requests to n1 and passes the answer back. A node
pings n1 every 100 ms: when n1 has not answered for 500 ms, it refuses at once with error 11
(temporarily unavailable: definitely not done, it never sent the request). A forwarded
request that gets no answer within 1 s ends with error 0 (timeout: indefinite, n1 may have
applied it) -- except a read, which changes nothing and so fails definitely (11).

With a data file (argument 1), n1 writes its map there (write, rename, fsync) before it
answers a write or a cas, and reads it back at start: a killed and restarted n1 keeps what it
acknowledged.
"""

import json
import os
import sys
import time

from maelstrom_node import (
    KEY_DOES_NOT_EXIST,
    PRECONDITION_FAILED,
    TEMPORARILY_UNAVAILABLE,
    TIMEOUT,
    Node,
    RPCError,
)

PING_S = 0.1
SILENT_S = 0.5
FORWARD_TIMEOUT_S = 1.0

node = Node()
data_file = sys.argv[1] if len(sys.argv) > 1 else None
data = {}
last_heard = [0.0]  # when n1 last answered a ping (monotonic)


def leader():
    return node.node_ids[0]


def load():
    if data_file and os.path.exists(data_file):
        with open(data_file) as f:
            data.update(json.load(f))


def save():
    if not data_file:
        return
    os.makedirs(os.path.dirname(data_file) or ".", exist_ok=True)
    tmp = data_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, data_file)


def apply(body):
    """n1: one operation, as Maelstrom's lin-kv defines it; its reply body."""
    key = str(body["key"])
    kind = body["type"]
    if kind == "read":
        if key not in data:
            raise RPCError(KEY_DOES_NOT_EXIST, "no key " + key)
        return {"type": "read_ok", "value": data[key]}
    if kind == "write":
        data[key] = body["value"]
        save()
        return {"type": "write_ok"}
    if key not in data:
        raise RPCError(KEY_DOES_NOT_EXIST, "no key " + key)
    if data[key] != body["from"]:
        raise RPCError(PRECONDITION_FAILED, "expected %r, have %r" % (body["from"], data[key]))
    data[key] = body["to"]
    save()
    return {"type": "cas_ok"}


def client_request(msg):
    if node.node_id == leader():
        return apply(msg["body"])
    if time.monotonic() - last_heard[0] > SILENT_S:
        raise RPCError(TEMPORARILY_UNAVAILABLE, "n1 unreachable: not forwarded")
    request = {k: v for k, v in msg["body"].items() if k != "msg_id"}

    def answered(reply):
        if reply is None:
            code = TEMPORARILY_UNAVAILABLE if request["type"] == "read" else TIMEOUT
            node.error(msg, code, "no answer from " + leader())
        else:
            node.reply(msg, reply["answer"])

    node.rpc(leader(), {"type": "forward", "request": request}, answered, FORWARD_TIMEOUT_S)
    return None


def forward(msg):
    try:
        answer = apply(msg["body"]["request"])
    except RPCError as e:
        answer = {"type": "error", "code": e.code, "text": e.text}
    return {"type": "forward_ok", "answer": answer}


def ping_leader():
    def answered(reply):
        if reply is not None:
            last_heard[0] = time.monotonic()

    node.rpc(leader(), {"type": "ping"}, answered, SILENT_S)


def started():
    if node.node_id == leader():
        load()
    else:
        node.every(PING_S, ping_leader)


for kind in ("read", "write", "cas"):
    node.handle(kind, client_request)
node.handle("forward", forward)
node.handle("ping", lambda msg: {"type": "pong"})
node.on_init.append(started)
node.run()
