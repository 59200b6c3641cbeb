// Client requests waiting on this node for their result. A request is "sent" once it was
// proposed or forwarded: from then on it may be applied, so it can no longer be answered
// `unavailable` (definite); it is answered when this node applies it, or forgotten after
// requestTimeoutTicks (the shell's own timeout makes it indeterminate).

import type { ClientRequest } from "../command.js";
import type { ReqId } from "./types.js";

export interface PendingRequest {
  request: ClientRequest;
  reqIds: ReqId[];
  sent: boolean;
  since: number;
  lastSent: number;
}

export function requestKey(r: ClientRequest): string {
  return `${r.clientId}\u0000${r.seq}`;
}

export class PendingRequests {
  readonly byKey = new Map<string, PendingRequest>();

  add(reqId: ReqId, request: ClientRequest, now: number): PendingRequest {
    const key = requestKey(request);
    const p = this.byKey.get(key);
    if (p) {
      p.reqIds.push(reqId);
      return p;
    }
    const fresh: PendingRequest = {
      request,
      reqIds: [reqId],
      sent: false,
      since: now,
      lastSent: now,
    };
    this.byKey.set(key, fresh);
    return fresh;
  }

  get(request: ClientRequest): PendingRequest | undefined {
    return this.byKey.get(requestKey(request));
  }

  take(request: ClientRequest): PendingRequest | undefined {
    const key = requestKey(request);
    const p = this.byKey.get(key);
    if (p) this.byKey.delete(key);
    return p;
  }

  get size(): number {
    return this.byKey.size;
  }
}
