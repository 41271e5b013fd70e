package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/server/playground"
)

// TestPlaygroundExamplesRunOnDemoData runs every ready-made example, in file
// order, with the admin token against `serve --demo` data on both stores:
// an example that validates but fails at run time is as useless to a
// person in the playground as one that does not parse. Subscriptions go over
// the WebSocket, as the playground sends them.
func TestPlaygroundExamplesRunOnDemoData(t *testing.T) {
	examples, err := playground.Examples()
	if err != nil {
		t.Fatal(err)
	}
	eachStore(t, func(t *testing.T, h *harness) {
		if err := loadDemo(context.Background(), h.DB, h.Cfg, io.Discard, false); err != nil {
			t.Fatalf("demo data: %v", err)
		}
		for _, ex := range examples {
			doc, perr := parser.ParseQuery(&ast.Source{Input: ex.Query})
			if perr != nil {
				t.Fatalf("example %q: %v", ex.Name, perr)
			}
			if doc.Operations[0].Operation == ast.Subscription {
				if err := h.subscribeOnce(ex.Query, ex.Variables); err != nil {
					t.Errorf("example %q (%s): %v", ex.Name, ex.Capability, err)
				}
				continue
			}
			r := h.gql(t, h.Admin, ex.Query, ex.Variables)
			if len(r.Errors) > 0 {
				t.Errorf("example %q (%s): %+v", ex.Name, ex.Capability, r.Errors)
				continue
			}
			// Every top-level field must have found something: an example
			// answering {"site": null} or {"sites": []} shows a person nothing.
			var data map[string]any
			if err := json.Unmarshal(r.Data, &data); err != nil || len(data) == 0 {
				t.Errorf("example %q returned no data: %s", ex.Name, r.Data)
				continue
			}
			for field, v := range data {
				if list, isList := v.([]any); v == nil || (isList && len(list) == 0) {
					t.Errorf("example %q: %s is empty on demo data", ex.Name, field)
				}
			}
		}
	})
}

// subscribeOnce starts a subscription over graphql-transport-ws with the
// admin token and succeeds when the server accepts it: an event arrives, or
// nothing has gone wrong within a grace period (a subscription may rightly
// stay quiet). An error or close message fails.
func (h *harness) subscribeOnce(query string, vars map[string]any) error {
	// The protocol has no "subscribed" reply: errors in the operation come
	// back at once, so a couple of quiet seconds mean it was accepted. (The
	// browser test waits for real heartbeat events.)
	grace := 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(h.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + h.Admin}}); err != nil {
		return err
	}
	for {
		var msg struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil // accepted, and quiet
			}
			return err
		}
		switch msg.Type {
		case "connection_ack":
			if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}}); err != nil {
				return err
			}
		case "next":
			var p struct {
				Errors []any `json:"errors"`
			}
			if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
				return fmt.Errorf("event %s: %v", msg.Payload, err)
			}
			return nil
		case "ping":
			_ = wsjson.Write(ctx, conn, map[string]any{"type": "pong"})
		case "error", "complete":
			return fmt.Errorf("%s: %s", msg.Type, msg.Payload)
		}
	}
}

// TestSubscribeOnceCatchesBadSubscriptions shows the check above can fail:
// a subscription the server rejects is reported, not waited out.
func TestSubscribeOnceCatchesBadSubscriptions(t *testing.T) {
	h := startHarness(t, dbtest.URL(t, db.SQLite), nil)
	for _, q := range []string{`subscription { noSuchField }`, `subscription { heartbeat { x } }`} {
		if err := h.subscribeOnce(q, nil); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}
