module paxos-harness/examples/go-kv

go 1.19
