package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"
)

// parsePeers reads id=host:port,... into a map, keeping the order of the ids.
func parsePeers(text string) (map[string]string, []string, error) {
	addrs := map[string]string{}
	var order []string
	for _, entry := range strings.Split(text, ",") {
		if entry == "" {
			continue
		}
		id, addr, ok := strings.Cut(entry, "=")
		if !ok || id == "" || !strings.Contains(addr, ":") {
			return nil, nil, fmt.Errorf("bad entry %q (want id=host:port)", entry)
		}
		addrs[id] = addr
		order = append(order, id)
	}
	return addrs, order, nil
}

func orNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

// jsonEqual compares two JSON texts as values (1 and 1.0 alike, object keys in any order).
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func reply(w http.ResponseWriter, status int, body map[string]any) {
	text, _ := json.Marshal(body)
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(text)
}

// logLine writes one JSON object per line on stdout, as the built-in node logs.
func logLine(id, msg string, fields map[string]any) {
	line := map[string]any{"t": time.Now().UTC().Format(time.RFC3339Nano), "level": "info", "node": id, "msg": msg}
	for k, v := range fields {
		line[k] = v
	}
	text, _ := json.Marshal(line)
	fmt.Println(string(text))
}

// fatal prints one line naming what is wrong and exits (3: configuration, 1: a failure).
func fatal(code int, message string) {
	fmt.Fprintf(os.Stderr, "go-kv: %s\n", message)
	os.Exit(code)
}
