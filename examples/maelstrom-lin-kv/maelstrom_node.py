"""A small Maelstrom node in the style of Maelstrom's own demos (its doc/protocol.md).

Messages are JSON lines on stdin and stdout; stderr is the log. One thread: a loop over stdin
and timers (select), so handlers never race. Handlers by message type; rpc() calls a callback
with the reply, or with None on a timeout. The loop ends at the end of stdin.
"""

import heapq
import itertools
import json
import os
import select
import sys
import time

TIMEOUT = 0
TEMPORARILY_UNAVAILABLE = 11
MALFORMED_REQUEST = 12
CRASH = 13
KEY_DOES_NOT_EXIST = 20
PRECONDITION_FAILED = 22


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class RPCError(Exception):
    def __init__(self, code, text):
        super().__init__(text)
        self.code = code
        self.text = text


class Node:
    def __init__(self):
        self.node_id = None
        self.node_ids = []
        self.handlers = {}
        self.callbacks = {}  # msg_id -> (callback, timer)
        self.timers = []  # heap of (due, seq, fn)
        self.seq = itertools.count()
        self.next_msg_id = itertools.count(1)
        self.on_init = []
        self.handle("init", self._init)

    # --- API for the programs -------------------------------------------------------------

    def handle(self, type_, fn):
        """fn(message) -> a reply body (sent for it), or None (it replies later, or never)."""
        self.handlers[type_] = fn

    def send(self, dest, body):
        msg = {"src": self.node_id, "dest": dest, "body": body}
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()

    def reply(self, request, body):
        body = dict(body)
        body["in_reply_to"] = request["body"]["msg_id"]
        self.send(request["src"], body)

    def error(self, request, code, text):
        self.reply(request, {"type": "error", "code": code, "text": text})

    def rpc(self, dest, body, callback, timeout_s):
        """Sends body to dest; callback(reply_body) on the reply, callback(None) on timeout."""
        msg_id = next(self.next_msg_id)
        body = dict(body, msg_id=msg_id)

        def expire():
            entry = self.callbacks.pop(msg_id, None)
            if entry is not None:
                entry[0](None)

        self.callbacks[msg_id] = (callback, self.after(timeout_s, expire))
        self.send(dest, body)

    def after(self, delay_s, fn):
        timer = [time.monotonic() + delay_s, next(self.seq), fn]
        heapq.heappush(self.timers, timer)
        return timer

    def every(self, interval_s, fn):
        def tick():
            fn()
            self.after(interval_s, tick)

        self.after(interval_s, tick)

    # --- the loop -------------------------------------------------------------------------

    def run(self):
        buffered = b""
        while True:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                fn()
            wait = max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else None
            ready, _, _ = select.select([0], [], [], wait)
            if not ready:
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                return  # end of stdin: the shim (or Maelstrom) is gone
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                if line.strip():
                    self._dispatch(json.loads(line))

    def _dispatch(self, msg):
        body = msg["body"]
        reply_to = body.get("in_reply_to")
        if reply_to is not None:
            entry = self.callbacks.pop(reply_to, None)
            if entry is not None:
                self.timers.remove(entry[1])
                heapq.heapify(self.timers)
                entry[0](body)
            return
        handler = self.handlers.get(body["type"])
        if handler is None:
            if "msg_id" in body:
                self.error(msg, 10, "not supported: " + body["type"])
            return
        try:
            out = handler(msg)
        except RPCError as e:
            self.error(msg, e.code, e.text)
            return
        if out is not None:
            self.reply(msg, out)

    def _init(self, msg):
        self.node_id = msg["body"]["node_id"]
        self.node_ids = msg["body"]["node_ids"]
        for fn in self.on_init:
            fn()
        log("initialized", self.node_id, self.node_ids)
        return {"type": "init_ok"}
