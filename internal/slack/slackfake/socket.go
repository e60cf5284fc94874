package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// socket is the Socket Mode side of the workspace: apps.connections.open hands out a WebSocket
// URL, and the test delivers envelopes over it and reads the acknowledgements.
type socket struct {
	mu        sync.Mutex
	appToken  string
	conn      *websocket.Conn
	connected chan struct{}
	acks      map[string]chan json.RawMessage
	n         int
}

// EnableSocketMode lets clients with appToken (xapp-…) connect over Socket Mode.
func (w *Workspace) EnableSocketMode(appToken string) {
	w.sock.mu.Lock()
	defer w.sock.mu.Unlock()
	w.sock.appToken = appToken
}

func (w *Workspace) appsConnectionsOpen(rw http.ResponseWriter, r *http.Request) {
	w.sock.mu.Lock()
	tok := w.sock.appToken
	w.sock.mu.Unlock()
	if tok == "" || strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") != tok {
		writeJSON(rw, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	ws := "ws" + strings.TrimPrefix(strings.TrimSuffix(w.srv.GetAPIURL(), "/"), "http") + "/socket"
	writeJSON(rw, map[string]any{"ok": true, "url": ws})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (w *Workspace) socketHandler(rw http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(rw, r, nil)
	if err != nil {
		return
	}
	_ = conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A0BREACH"}})
	w.sock.mu.Lock()
	w.sock.conn = conn
	close(w.sock.connected)
	w.sock.mu.Unlock()
	for {
		var msg struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&msg); err != nil {
			return
		}
		w.sock.mu.Lock()
		ch := w.sock.acks[msg.EnvelopeID]
		w.sock.mu.Unlock()
		if ch != nil {
			ch <- msg.Payload
		}
	}
}

// WaitSocket waits until a Socket Mode client is connected.
func (w *Workspace) WaitSocket(timeout time.Duration) error {
	select {
	case <-w.sock.connected:
		return nil
	case <-time.After(timeout):
		return errors.New("no Socket Mode client connected")
	}
}

// Deliver sends an envelope (kind "slash_commands" or "interactive") over Socket Mode and
// returns the payload of its acknowledgement ("null" for an empty one).
func (w *Workspace) Deliver(kind string, payload any, timeout time.Duration) (json.RawMessage, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	w.sock.mu.Lock()
	conn := w.sock.conn
	w.sock.n++
	id := fmt.Sprintf("env-%d", w.sock.n)
	ch := make(chan json.RawMessage, 1)
	w.sock.acks[id] = ch
	w.sock.mu.Unlock()
	if conn == nil {
		return nil, errors.New("no Socket Mode client connected")
	}
	env := map[string]any{"envelope_id": id, "type": kind, "payload": json.RawMessage(raw), "accepts_response_payload": true, "retry_attempt": 0}
	w.sock.mu.Lock()
	err = conn.WriteJSON(env)
	w.sock.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case ack := <-ch:
		return ack, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("envelope %s was not acknowledged within %s", id, timeout)
	}
}
