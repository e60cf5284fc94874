// Package ingress is the Slack side of `breach serve`: the signed HTTP endpoints for slash
// commands and interactions (buttons, modals), and the same handlers over Socket Mode.
//
// Every request is verified before it is parsed, answered at once (Slack gives up after 3
// seconds), and acted on after the answer, in a goroutine with its own timeout: starting an
// incident, or sending the same workflow Update the CLI sends. A request delivered twice is
// acted on once.
package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/workflows"
)

// MaxBody is the largest request body accepted; larger ones are refused with 413.
const MaxBody = 1 << 20

// Routes of the HTTP ingress.
const (
	PathCommands     = "/slack/commands"
	PathInteractions = "/slack/interactions"
	PathHealth       = "/healthz"
)

// Config configures the ingress.
type Config struct {
	// SigningSecret verifies requests (SLACK_SIGNING_SECRET). Socket Mode does not need it.
	SigningSecret string
	// Temporal starts incidents and sends Updates.
	Temporal Temporal
	// API is the Slack Web API client (bot token): views.open, chat.update, chat.postEphemeral,
	// conversations.info.
	API *slackgo.Client
	// HTTPClient posts to response URLs; nil means one with a 10 s timeout.
	HTTPClient *http.Client
	// Defaults fills a declaration from the configuration: roles (Slack user ids), routes,
	// organisation.
	Defaults func(d *workflows.Declaration)
	// CheckSystems refuses affected systems that are neither in the inventory nor addresses;
	// nil accepts any.
	CheckSystems func(systems []string) error
	// Now is the clock (signature window, awareness default); nil means time.Now.
	Now func() time.Time
	// WorkTimeout bounds the work done after each acknowledgement; 0 means 30 s.
	WorkTimeout time.Duration
	Logger      *slog.Logger
}

// Server handles Slack requests.
type Server struct {
	cfg     Config
	replays *replays
	base    context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a Server. Close it to cancel the work in flight.
func New(cfg Config) (*Server, error) {
	if cfg.Temporal == nil || cfg.API == nil {
		return nil, errors.New("ingress: Temporal and API are required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Defaults == nil {
		cfg.Defaults = func(*workflows.Declaration) {}
	}
	if cfg.WorkTimeout == 0 {
		cfg.WorkTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	base, stop := context.WithCancel(context.Background())
	return &Server{cfg: cfg, replays: newReplays(2*MaxSkew, 100_000), base: base, stop: stop}, nil
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// Wait blocks until the work started by past requests is done.
func (s *Server) Wait() { s.wg.Wait() }

// Close cancels the work in flight and waits for it.
func (s *Server) Close() {
	s.stop()
	s.wg.Wait()
}

// later runs fn after the acknowledgement, with its own timeout.
func (s *Server) later(what string, fn func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.base, s.cfg.WorkTimeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				s.cfg.Logger.Error("slack work panicked", "work", what, "panic", r)
			}
		}()
		fn(ctx)
	}()
}

// Handler serves POST /slack/commands, POST /slack/interactions and GET /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathCommands, s.verified(s.serveCommand))
	mux.HandleFunc("POST "+PathInteractions, s.verified(s.serveInteraction))
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// HTTPServer is an http.Server for the handler with timeouts set: Slack's requests are small
// and answered at once, so anything slow is a client holding a connection open.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// verified reads the body (at most MaxBody), verifies the signature before anything is parsed,
// drops repeated deliveries, and passes the body on.
func (s *Server) verified(next func(w http.ResponseWriter, r *http.Request, body []byte, sigKey string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body larger than 1 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "could not read the request body", http.StatusBadRequest)
			return
		}
		ts, sig := r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature")
		if err := Verify(s.cfg.SigningSecret, ts, sig, body, s.now()); err != nil {
			s.cfg.Logger.Warn("slack request refused", "path", r.URL.Path, "reason", err, "remote", r.RemoteAddr)
			http.Error(w, "invalid Slack signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
		if retry := r.Header.Get("X-Slack-Retry-Num"); retry != "" {
			s.cfg.Logger.Info("slack redelivery", "path", r.URL.Path, "retry", retry, "reason", r.Header.Get("X-Slack-Retry-Reason"))
		}
		next(w, r, body, "sig:"+sig)
	}
}

// writeReply writes the acknowledgement: an empty 200, or JSON.
func writeReply(w http.ResponseWriter, reply any) {
	if reply == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(reply); err != nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) serveCommand(w http.ResponseWriter, r *http.Request, body []byte, sigKey string) {
	if !isForm(r) {
		writeReply(w, ephemeral("breach could not read this request: it is not a form-encoded slash command."))
		return
	}
	cmd, err := ParseCommand(body)
	if err != nil {
		writeReply(w, ephemeral("breach could not read this request: "+errText(err)))
		return
	}
	writeReply(w, s.command(cmd, sigKey))
}

func (s *Server) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte, sigKey string) {
	if !isForm(r) {
		writeReply(w, ephemeral("breach could not read this request: it is not a form-encoded interaction."))
		return
	}
	cb, err := ParseInteraction(body)
	if err != nil {
		writeReply(w, ephemeral("breach could not read this request: "+errText(err)))
		return
	}
	writeReply(w, s.interaction(cb, sigKey))
}

func isForm(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// HandleCommand answers a slash command and starts its work; Socket Mode and HTTP share it.
func (s *Server) HandleCommand(cmd slackgo.SlashCommand) any { return s.command(cmd, "") }

// HandleInteraction answers an interaction and starts its work; Socket Mode and HTTP share it.
func (s *Server) HandleInteraction(cb slackgo.InteractionCallback) any {
	return s.interaction(cb, "")
}

// message is an ephemeral reply to a command.
type message struct {
	ResponseType    string          `json:"response_type,omitempty"`
	Text            string          `json:"text"`
	Blocks          []slackgo.Block `json:"blocks,omitempty"`
	ReplaceOriginal bool            `json:"replace_original,omitempty"`
}

func ephemeral(text string) message { return message{ResponseType: "ephemeral", Text: text} }

// respond sends an ephemeral message to a response URL.
func (s *Server) respond(ctx context.Context, responseURL string, m message) {
	if responseURL == "" {
		return
	}
	msg := &slackgo.WebhookMessage{ResponseType: m.ResponseType, Text: m.Text, ReplaceOriginal: m.ReplaceOriginal}
	if len(m.Blocks) > 0 {
		msg.Blocks = &slackgo.Blocks{BlockSet: m.Blocks}
	}
	if err := slackgo.PostWebhookCustomHTTPContext(ctx, responseURL, s.cfg.HTTPClient, msg); err != nil {
		s.cfg.Logger.Warn("slack response_url post failed", "error", err)
	}
}

// tell shows text to one user only: in the channel (chat.postEphemeral) when there is one the
// bot is in, else through the response URL.
func (s *Server) tell(ctx context.Context, channelID, userID, responseURL, text string) {
	if channelID != "" {
		err := retry(ctx, func() error {
			_, err := s.cfg.API.PostEphemeralContext(ctx, channelID, userID, slackgo.MsgOptionText(text, false))
			return err
		})
		if err == nil {
			return
		}
		if responseURL == "" {
			s.cfg.Logger.Warn("slack ephemeral message failed", "channel", channelID, "user", userID, "error", err)
			return
		}
	}
	s.respond(ctx, responseURL, ephemeral(text))
}

func fmtUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// errText is an error as Slack shows it to a person: mrkdwn, so escaped.
func errText(err error) string {
	var rej *RejectedError
	switch {
	case errors.As(err, &rej):
		return breachslack.Escape(rej.Reason)
	case errors.Is(err, context.DeadlineExceeded):
		return "Temporal did not answer in time; try again in a minute (nothing was changed if this was refused)"
	default:
		return breachslack.Escape(fmt.Sprint(err))
	}
}

// retry runs a Slack call up to three times when Slack is busy (429, honouring Retry-After up
// to 5 s) or failing (5xx, network). This runs after the acknowledgement, so waiting is fine.
func retry(ctx context.Context, call func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = call(); err == nil || attempt == 3 {
			return err
		}
		wait := time.Duration(attempt) * 300 * time.Millisecond
		var rl *slackgo.RateLimitedError
		var sc slackgo.StatusCodeError
		var se slackgo.SlackErrorResponse
		switch {
		case errors.As(err, &rl):
			wait = min(max(rl.RetryAfter, time.Second), 5*time.Second)
		case errors.As(err, &sc) && sc.Retryable():
		case errors.As(err, &se):
			if se.Err != "ratelimited" && se.Err != "internal_error" && se.Err != "service_unavailable" {
				return err
			}
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
