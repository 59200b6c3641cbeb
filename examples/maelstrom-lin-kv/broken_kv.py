#!/usr/bin/env python3
"""A deliberately NOT linearizable lin-kv node: every node answers from its own copy.

Writes and cas apply to the local copy at once and are sent to the other nodes 300 ms later
(fire and forget), so a read at another node sees an old value for a while: a stale read that
a linearizability checker must catch.
"""

from maelstrom_node import KEY_DOES_NOT_EXIST, PRECONDITION_FAILED, Node, RPCError

REPLICATION_DELAY_S = 0.3

node = Node()
data = {}


def replicate(key, value):
    def send():
        for other in node.node_ids:
            if other != node.node_id:
                node.send(other, {"type": "replicate", "key": key, "value": value})

    node.after(REPLICATION_DELAY_S, send)


def read(msg):
    key = str(msg["body"]["key"])
    if key not in data:
        raise RPCError(KEY_DOES_NOT_EXIST, "no key " + key)
    return {"type": "read_ok", "value": data[key]}


def write(msg):
    key = str(msg["body"]["key"])
    data[key] = msg["body"]["value"]
    replicate(key, data[key])
    return {"type": "write_ok"}


def cas(msg):
    body = msg["body"]
    key = str(body["key"])
    if key not in data:
        raise RPCError(KEY_DOES_NOT_EXIST, "no key " + key)
    if data[key] != body["from"]:
        raise RPCError(PRECONDITION_FAILED, "expected %r, have %r" % (body["from"], data[key]))
    data[key] = body["to"]
    replicate(key, data[key])
    return {"type": "cas_ok"}


def replicated(msg):
    data[str(msg["body"]["key"])] = msg["body"]["value"]


node.handle("read", read)
node.handle("write", write)
node.handle("cas", cas)
node.handle("replicate", replicated)
node.run()
