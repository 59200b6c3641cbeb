// go-kv: a small http-kv node in Go (stdlib only), an example of an outside backend for
// paxos-harness. One leader (--leader, else the first id of --peers) holds the map and writes
// it to <data-dir>/kv.json, fsynced, before it answers; every other node forwards each request
// to the leader's peer port over HTTP. All requests go through one lock on the leader, so the
// cluster is linearizable (single copy). Outgoing connections use Go's default dialer: they
// bind nothing, so the kernel picks the source address.
//
// Client protocol (doc: node/README.md, design.md "Client protocol"):
//
//	GET /kv/K -> 200 {"value": v} | 404;  PUT /kv/K {"value": v} -> 200
//	POST /kv/K/cas {"from": a, "to": b} -> 200 | 409 {"value": current}
//	503 {"definite": true}: not applied (the leader could not be reached);
//	504 without definite: maybe applied (the leader was lost after the request was sent).
//	GET /status -> {"id", "role", "leader", "time"}
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type node struct {
	id, leader, dataFile string
	leaderPeer           string // host:port of the leader's peer listener
	mu                   sync.Mutex
	data                 map[string]json.RawMessage
	forward              *http.Client
}

func main() {
	id := flag.String("id", "", "this node's id (required)")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	httpPort := flag.Int("http-port", 8000, "client API port")
	peerPort := flag.Int("peer-port", 7000, "port the leader takes forwarded requests on")
	peers := flag.String("peers", "", "id=host:peer_port,... (every node)")
	leader := flag.String("leader", "", "the leader's id (default: the first of --peers)")
	dataDir := flag.String("data-dir", "", "where the leader keeps kv.json (required)")
	flag.Parse()
	if *id == "" || *dataDir == "" {
		fatal(3, "--id and --data-dir are required")
	}
	addrs, order, err := parsePeers(*peers)
	if err != nil {
		fatal(3, "--peers: "+err.Error())
	}
	n := &node{id: *id, leader: *leader, dataFile: filepath.Join(*dataDir, "kv.json")}
	if n.leader == "" && len(order) > 0 {
		n.leader = order[0]
	}
	if n.leader == "" {
		n.leader = n.id
	}
	n.leaderPeer = addrs[n.leader]
	if n.leader != n.id && n.leaderPeer == "" {
		fatal(3, fmt.Sprintf("--peers has no entry for the leader %q", n.leader))
	}
	// One connection per forwarded request: a dial that fails proves the request was not sent,
	// and a cut link (dropped SYNs) is a definite 503 after the dial timeout. The dialer binds
	// no local address: the kernel picks the source.
	dialer := &net.Dialer{Timeout: 300 * time.Millisecond}
	n.forward = &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, DialContext: dialer.DialContext},
	}
	if n.isLeader() {
		if err := os.MkdirAll(*dataDir, 0o755); err != nil {
			fatal(3, "--data-dir: "+err.Error())
		}
		if n.data, err = load(n.dataFile); err != nil {
			fatal(1, err.Error())
		}
		listen(fmt.Sprintf("%s:%d", *host, *peerPort), n)
	}
	listen(fmt.Sprintf("%s:%d", *host, *httpPort), n)
	logLine(n.id, "started", map[string]any{"host": *host, "httpPort": *httpPort, "peerPort": *peerPort, "leader": n.leader})
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	logLine(n.id, "stopped", map[string]any{"signal": (<-stop).String()})
}

func (n *node) isLeader() bool { return n.leader == n.id }

func listen(addr string, h http.Handler) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fatal(3, err.Error())
	}
	go func() { _ = http.Serve(l, h) }()
}

func (n *node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/status" && r.Method == http.MethodGet {
		role := "follower"
		if n.isLeader() {
			role = "leader"
		}
		reply(w, 200, map[string]any{"id": n.id, "role": role, "leader": n.leader, "time": time.Now().UnixMilli()})
		return
	}
	key, cas, ok := route(r.URL.EscapedPath())
	if !ok {
		reply(w, 400, map[string]any{"error": "unknown route " + r.Method + " " + r.URL.Path, "definite": true})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		reply(w, 400, map[string]any{"error": "cannot read the body", "definite": true})
		return
	}
	if n.isLeader() {
		status, out := n.apply(r.Method, key, cas, body)
		reply(w, status, out)
		return
	}
	n.forwardTo(w, r, body)
}

// apply runs one request on the leader's map, under the lock; writes are on disk before it returns.
func (n *node) apply(method, key string, cas bool, body []byte) (int, map[string]any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var in struct{ Value, From, To json.RawMessage }
	if len(body) > 0 && json.Unmarshal(body, &in) != nil {
		return 400, map[string]any{"error": "body is not a JSON object", "definite": true}
	}
	current, present := n.data[key]
	switch {
	case method == http.MethodGet && !cas:
		if !present {
			return 404, map[string]any{"error": "not found", "key": key}
		}
		return 200, map[string]any{"value": current}
	case method == http.MethodPut && !cas:
		return n.set(key, orNull(in.Value))
	case method == http.MethodPost && cas:
		if !present || !jsonEqual(current, orNull(in.From)) {
			out := map[string]any{"error": "current value is not `from`"}
			if present {
				out["value"] = current
			}
			return 409, out
		}
		return n.set(key, orNull(in.To))
	}
	return 400, map[string]any{"error": method + " not allowed here", "definite": true}
}

func (n *node) set(key string, value json.RawMessage) (int, map[string]any) {
	previous, present := n.data[key]
	n.data[key] = value
	if err := save(n.dataFile, n.data); err != nil {
		if present {
			n.data[key] = previous
		} else {
			delete(n.data, key)
		}
		// What reached the disk is unknown: indeterminate.
		return 500, map[string]any{"error": err.Error()}
	}
	return 200, map[string]any{}
}

// forwardTo sends the request to the leader's peer port and relays its answer.
func (n *node) forwardTo(w http.ResponseWriter, r *http.Request, body []byte) {
	connected := false
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected = true }}
	req, err := http.NewRequest(r.Method, "http://"+n.leaderPeer+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		reply(w, 400, map[string]any{"error": err.Error(), "definite": true})
		return
	}
	req = req.WithContext(httptrace.WithClientTrace(r.Context(), trace))
	req.Header.Set("content-type", "application/json")
	res, err := n.forward.Do(req)
	if err != nil {
		if !connected {
			reply(w, 503, map[string]any{"error": "leader unreachable: " + err.Error(), "definite": true})
		} else {
			reply(w, 504, map[string]any{"error": "leader lost: " + err.Error()})
		}
		return
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		reply(w, 504, map[string]any{"error": "leader lost: " + err.Error()})
		return
	}
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(out)
}

// route splits /kv/K and /kv/K/cas; K is percent-decoded.
func route(path string) (key string, cas bool, ok bool) {
	if !strings.HasPrefix(path, "/kv/") {
		return "", false, false
	}
	rest := strings.TrimPrefix(path, "/kv/")
	cas = strings.HasSuffix(rest, "/cas")
	rest = strings.TrimSuffix(rest, "/cas")
	if rest == "" || strings.Contains(rest, "/") {
		return "", false, false
	}
	key, err := url.PathUnescape(rest)
	return key, cas, err == nil
}

func load(file string) (map[string]json.RawMessage, error) {
	data := map[string]json.RawMessage{}
	text, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return data, nil
	}
	if err == nil {
		err = json.Unmarshal(text, &data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return data, nil
}

// save writes the map to a temporary file, fsyncs it, renames it over the old one and fsyncs
// the folder, so that an acknowledged write survives a kill (and a power loss).
func save(file string, data map[string]json.RawMessage) error {
	text, err := json.Marshal(data)
	if err != nil {
		return err
	}
	tmp := file + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(text); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err == nil {
		var dir *os.File
		if dir, err = os.Open(filepath.Dir(file)); err == nil {
			err = dir.Sync()
			dir.Close()
		}
	}
	return err
}
