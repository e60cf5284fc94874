package ingress_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// Requests signed exactly as Slack signs them, and the ways they go wrong. None of the refused
// ones touches a workflow or opens a modal.
func TestRequests(t *testing.T) {
	type want struct {
		status   int
		contains string
		// lacks is what the answer must not tell: this server's clock offset.
		lacks   string
		views   int
		touched int
	}
	tests := []struct {
		name string
		req  func(h *harness) (*http.Request, []byte)
		want want
	}{
		{"valid help", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "help")
			return slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b), b
		}, want{status: 200, contains: "/breach declare"}},
		{"valid declare opens the form", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "declare Customer DB exposed")
			return slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b), b
		}, want{status: 200, views: 1}},
		{"forged signature", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "declare x")
			return slackfake.SignedRequest(h.url+ingress.PathCommands, "not-the-secret", time.Now(), b), b
		}, want{status: 401, contains: "signature"}},
		{"body altered after signing", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "help")
			r := slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b)
			return r, bytes.Replace(b, []byte("help"), []byte("declare"), 1)
		}, want{status: 401}},
		{"expired: signed 6 minutes ago", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "declare x")
			return slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now().Add(-6*time.Minute), b), b
		}, want{status: 401, contains: "5 minutes", lacks: "6m"}},
		{"signed 6 minutes in the future", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "declare x")
			return slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now().Add(6*time.Minute), b), b
		}, want{status: 401, contains: "5 minutes", lacks: "6m"}},
		{"missing signature header", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "declare x")
			r := slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b)
			r.Header.Del("X-Slack-Signature")
			return r, b
		}, want{status: 401, contains: "missing"}},
		{"missing timestamp header", func(h *harness) (*http.Request, []byte) {
			b := h.ic.CommandBody("C1", "declare x")
			r := slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b)
			r.Header.Del("X-Slack-Request-Timestamp")
			return r, b
		}, want{status: 401}},
		{"oversized body", func(h *harness) (*http.Request, []byte) {
			b := append(h.ic.CommandBody("C1", "help"), []byte("&pad="+strings.Repeat("a", ingress.MaxBody))...)
			return slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b), b
		}, want{status: 413}},
		{"non-form body, signed", func(h *harness) (*http.Request, []byte) {
			b := []byte(`{"command":"/breach","text":"declare x","user_id":"UIC000001"}`)
			r := slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b)
			r.Header.Set("Content-Type", "application/json")
			return r, b
		}, want{status: 200, contains: "not a form-encoded"}},
		{"form without a command", func(h *harness) (*http.Request, []byte) {
			b := []byte("foo=bar")
			return slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), b), b
		}, want{status: 200, contains: "could not read"}},
		{"interaction without payload", func(h *harness) (*http.Request, []byte) {
			b := []byte("foo=bar")
			return slackfake.SignedRequest(h.url+ingress.PathInteractions, secret, time.Now(), b), b
		}, want{status: 200, contains: "no payload"}},
		{"interaction with a broken payload", func(h *harness) (*http.Request, []byte) {
			b := []byte(url.Values{"payload": {`{"type":`}}.Encode())
			return slackfake.SignedRequest(h.url+ingress.PathInteractions, secret, time.Now(), b), b
		}, want{status: 200, contains: "could not read"}},
		{"forged interaction", func(h *harness) (*http.Request, []byte) {
			b := []byte(url.Values{"payload": {`{"type":"block_actions","user":{"id":"UIC000001"},"actions":[{"action_id":"breach_close","value":"INC-20261128-7F3A close"}]}`}}.Encode())
			return slackfake.SignedRequest(h.url+ingress.PathInteractions, "guessed", time.Now(), b), b
		}, want{status: 401}},
		{"GET on a Slack route", func(h *harness) (*http.Request, []byte) {
			r, _ := http.NewRequest(http.MethodGet, h.url+ingress.PathCommands, nil)
			return r, nil
		}, want{status: 405}},
		{"health", func(h *harness) (*http.Request, []byte) {
			r, _ := http.NewRequest(http.MethodGet, h.url+ingress.PathHealth, nil)
			return r, nil
		}, want{status: 200, contains: "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.incident()
			req, body := tt.req(h)
			res, err := h.ic.Do(req, body)
			require.NoError(t, err)
			h.srv.Wait()
			assert.Equal(t, tt.want.status, res.Status, "%s", res.Body)
			if tt.want.contains != "" {
				assert.Contains(t, string(res.Body), tt.want.contains)
			}
			if tt.want.lacks != "" {
				assert.NotContains(t, string(res.Body), tt.want.lacks)
			}
			assert.Len(t, h.ws.Views(), tt.want.views)
			assert.Equal(t, tt.want.touched, h.temporal.touched(), "no workflow is touched")
			if tt.want.status == 200 && len(res.Body) > 0 && strings.HasPrefix(string(res.Body), "{") {
				var m map[string]any
				require.NoError(t, json.Unmarshal(res.Body, &m))
				assert.Equal(t, "ephemeral", m["response_type"], "answers are shown only to the person who asked")
			}
		})
	}
}

// A request delivered twice (a Slack retry, or a replay inside the signature window) is acted
// on once.
func TestDeliveredTwiceActedOnOnce(t *testing.T) {
	t.Run("replayed command", func(t *testing.T) {
		h := newHarness(t)
		res, err := h.ic.Command("C1", "declare Customer DB exposed")
		require.NoError(t, err)
		again, err := h.ic.Do(res.Request, res.Payload)
		require.NoError(t, err)
		assert.Equal(t, 200, again.Status)
		h.srv.Wait()
		assert.Len(t, h.ws.Views(), 1)
	})
	t.Run("Slack retry with X-Slack-Retry-Num, signed anew", func(t *testing.T) {
		h := newHarness(t)
		body := h.ic.CommandBody("C1", "declare Customer DB exposed")
		_, err := h.ic.Do(slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), body), body)
		require.NoError(t, err)
		retry := slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now().Add(time.Second), body)
		retry.Header.Set("X-Slack-Retry-Num", "1")
		retry.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		res, err := h.ic.Do(retry, body)
		require.NoError(t, err)
		assert.Equal(t, 200, res.Status)
		h.srv.Wait()
		assert.Len(t, h.ws.Views(), 1)
	})
	t.Run("replayed modal submission declares one incident", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.ic.Command("C1", "declare Customer DB exposed")
		require.NoError(t, err)
		h.srv.Wait()
		v := h.ws.Views()[0]
		values := declareValues("shop-db", "crm-api")
		res, err := h.ic.Submit(v, values)
		require.NoError(t, err)
		_, err = h.ic.Do(res.Request, res.Payload)
		require.NoError(t, err)
		// A retry of the same submission, signed anew.
		_, err = h.ic.Submit(v, values)
		require.NoError(t, err)
		h.srv.Wait()
		assert.Len(t, h.temporal.Declared(), 1)
	})
	t.Run("replayed click approves once", func(t *testing.T) {
		h := newHarness(t)
		room := h.incident()
		m := h.post(room, "approval-needed", "Approve: breach approve "+incidentID+" --step report:gdpr-art33-authority --as <dpo>")
		res, err := h.dpo.Click(m, "breach_approve_report")
		require.NoError(t, err)
		for i := 0; i < 3; i++ {
			_, err = h.dpo.Do(res.Request, res.Payload)
			require.NoError(t, err)
		}
		h.srv.Wait()
		assert.Len(t, h.temporal.Updates(), 1)
	})
}

func TestHeadersOfRetriesAreLogged(t *testing.T) {
	// The retry number does not change the answer.
	h := newHarness(t)
	body := h.ic.CommandBody("C1", "help")
	req := slackfake.SignedRequest(h.url+ingress.PathCommands, secret, time.Now(), body)
	req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(2))
	res, err := h.ic.Do(req, body)
	require.NoError(t, err)
	assert.Equal(t, 200, res.Status)
	assert.Contains(t, string(res.Body), "/breach status")
}
