// Package ingress is the Slack side of `breach serve`: the signed HTTP endpoints for slash
// commands and interactions (buttons, modals, the message shortcut that makes a CSV shared in an
// incident's channel its dataset), and the same handlers over Socket Mode.
//
// Every request is verified before it is parsed, refused (403) when it comes from a workspace,
// Enterprise Grid organisation or app this breach does not serve, answered at once (Slack gives
// up after 3 seconds), and acted on after the answer, in a goroutine with its own timeout:
// starting an incident, or sending the same workflow Update the CLI sends, as the actor
// slack:<workspace>/<user>. A request delivered twice is acted on once. Response URLs are
// posted to only on Slack's hosts.
package ingress

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/incident"
	breachslack "github.com/breachops/breach/internal/slack"
)

// MaxBody is the largest request body accepted; larger ones are refused with 413.
const MaxBody = 1 << 20

// Routes of the HTTP ingress.
const (
	PathCommands     = "/slack/commands"
	PathInteractions = "/slack/interactions"
	// PathOptions loads the options of a menu as a person types (the app's Options Load URL).
	PathOptions = "/slack/options"
	// PathHealth is liveness: 200 while the process serves HTTP, whatever Temporal does.
	PathHealth = "/healthz"
	// PathReady is readiness: 200 when Temporal answers, else 503 (see Server.Ready).
	PathReady = "/readyz"
)

// Config configures the ingress.
type Config struct {
	// SigningSecret verifies requests (SLACK_SIGNING_SECRET). Socket Mode does not need it.
	SigningSecret string
	// TeamIDs are the workspaces served (config slack.team_ids); a request from any other is
	// refused before it is acted on. At least one is required.
	TeamIDs []string
	// EnterpriseID, when set, is the Enterprise Grid organisation requests must come from
	// (config slack.enterprise_id).
	EnterpriseID string
	// AppID is the breach app (config slack.app_id); requests for another app are refused.
	// Required.
	AppID string
	// ResponseHosts are more hosts response URLs may point at besides Slack's (hooks.slack.com,
	// *.slack.com, https only): host, host:port or *.domain, over http or https. For a local
	// Slack in tests (config slack.response_url_hosts).
	ResponseHosts []string
	// Temporal starts incidents and sends Updates. It may be unreachable, at start or later:
	// requests are still acknowledged, and the person is told to try again or use the CLI
	// runbook; /readyz reports it.
	Temporal Temporal
	// Signer is the ingress's key (incident.SlackIngress): every Update it forwards for a Slack
	// user is signed with it, and incidents verify it against signing.slack_ingress.
	Signer ed25519.PrivateKey
	// API is the Slack Web API client (bot token): views.open, chat.update, chat.postEphemeral,
	// conversations.info.
	API *slackgo.Client
	// HTTPClient posts to response URLs; nil means one with a 10 s timeout. Its redirects are
	// kept on the allowed hosts.
	HTTPClient *http.Client
	// Defaults fills a declaration from the configuration: roles (actors; user groups are
	// expanded by the ingress), routes, organisation.
	Defaults func(d *incident.Declaration)
	// Declarers may declare from Slack (config roles.declarers): actors and user groups of the
	// served workspaces. Empty: every member of them.
	Declarers []string
	// Systems are the inventory's system names, offered by the declaration form. Anything else
	// named as a system is an ad-hoc address, which only an incident commander may isolate.
	Systems []string
	// CheckSystems refuses affected systems that are neither in the inventory nor addresses;
	// nil accepts any.
	CheckSystems func(systems []string) error
	// Datasets is the dataset store (datasets.dir), shared with the worker: the declaration form
	// offers its datasets, and a CSV shared in an incident's channel is added to it. nil: no
	// store; the form offers none, and a shared CSV is refused.
	Datasets DatasetStore
	// BotToken (SLACK_BOT_TOKEN) authenticates the download of a file shared in Slack.
	BotToken string
	// FileHosts are more hosts files shared in Slack may be downloaded from besides Slack's
	// (files.slack.com, https only): host, host:port or *.domain, over http or https. For a local
	// Slack in tests (config slack.file_hosts).
	FileHosts []string
	// DownloadTimeout bounds fetching and storing one shared file; 0 means 15 minutes.
	DownloadTimeout time.Duration
	// Now is the clock (signature window, awareness default); nil means time.Now.
	Now func() time.Time
	// WorkTimeout bounds the work done after each acknowledgement; 0 means 30 s.
	WorkTimeout time.Duration
	Logger      *slog.Logger
}

// Server handles Slack requests.
type Server struct {
	cfg Config
	// files downloads shared files: no timeout of its own (the work's context bounds it), and
	// redirects kept on Slack's file host.
	files   *http.Client
	replays *replays
	// readiness is whether Temporal answers; cfg.Temporal asks it before any work.
	readiness *readiness
	base      context.Context
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

// New returns a Server. Close it to cancel the work in flight.
func New(cfg Config) (*Server, error) {
	if cfg.Temporal == nil || cfg.API == nil {
		return nil, errors.New("ingress: Temporal and API are required")
	}
	if len(cfg.TeamIDs) == 0 || cfg.AppID == "" {
		return nil, errors.New("ingress: the Slack workspaces and the app served are required: name them in the configuration's slack.team_ids and slack.app_id")
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
	}
	cfg.HTTPClient = hc
	if cfg.Defaults == nil {
		cfg.Defaults = func(*incident.Declaration) {}
	}
	if cfg.WorkTimeout == 0 {
		cfg.WorkTimeout = 30 * time.Second
	}
	if cfg.DownloadTimeout == 0 {
		cfg.DownloadTimeout = 15 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &readiness{check: cfg.Temporal.Check, logger: cfg.Logger}
	cfg.Temporal = gated{t: cfg.Temporal, r: r}
	base, stop := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, replays: newReplays(2*MaxSkew, 100_000), readiness: r, base: base, stop: stop}
	hc.CheckRedirect = s.checkRedirect
	s.files = &http.Client{Transport: hc.Transport, CheckRedirect: s.checkFileRedirect}
	return s, nil
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
	s.laterFor(what, s.cfg.WorkTimeout, fn)
}

// laterFor runs fn after the acknowledgement, within timeout.
func (s *Server) laterFor(what string, timeout time.Duration, fn func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.base, timeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				s.cfg.Logger.Error("slack work panicked", "work", what, "panic", r)
			}
		}()
		fn(ctx)
	}()
}

// Handler serves POST /slack/commands, POST /slack/interactions, POST /slack/options, GET
// /healthz (liveness) and GET /readyz (readiness: whether Temporal answers).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathCommands, s.verified(s.serveCommand))
	mux.HandleFunc("POST "+PathInteractions, s.verified(s.serveInteraction))
	mux.HandleFunc("POST "+PathOptions, s.verified(s.serveInteraction))
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET "+PathReady, s.serveReady)
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
			// The log has the detail (how far the timestamp is off); the answer does not tell a
			// caller this server's clock.
			s.cfg.Logger.Warn("slack request refused", "path", r.URL.Path, "reason", err, "remote", r.RemoteAddr)
			http.Error(w, "invalid Slack signature: "+publicReason(err), http.StatusUnauthorized)
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
		writeReply(w, ephemeral("breach could not read this request: "+parseText(err)))
		return
	}
	if s.refused("command", commandOrigin(cmd), cmd.UserID) {
		forbidden(w)
		return
	}
	writeReply(w, s.command(cmd, sigKey))
}

// forbidden answers a request from a workspace, organisation or app breach does not serve.
func forbidden(w http.ResponseWriter) {
	http.Error(w, "breach does not serve this Slack workspace or app", http.StatusForbidden)
}

func (s *Server) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte, sigKey string) {
	if !isForm(r) {
		writeReply(w, ephemeral("breach could not read this request: it is not a form-encoded interaction."))
		return
	}
	cb, err := ParseInteraction(body)
	if err != nil {
		writeReply(w, ephemeral("breach could not read this request: "+parseText(err)))
		return
	}
	if s.refused(string(cb.Type), interactionOrigin(cb), cb.User.ID) {
		forbidden(w)
		return
	}
	writeReply(w, s.interaction(cb, sigKey))
}

func isForm(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// HandleCommand answers a slash command and starts its work, as over Socket Mode: one from a
// workspace, organisation or app breach does not serve is dropped (nil) and logged.
func (s *Server) HandleCommand(cmd slackgo.SlashCommand) any {
	if s.refused("command", commandOrigin(cmd), cmd.UserID) {
		return nil
	}
	return s.command(cmd, "")
}

// HandleInteraction answers an interaction and starts its work, as over Socket Mode: one from
// a workspace, organisation or app breach does not serve is dropped (nil) and logged.
func (s *Server) HandleInteraction(cb slackgo.InteractionCallback) any {
	if s.refused(string(cb.Type), interactionOrigin(cb), cb.User.ID) {
		return nil
	}
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

// respond sends an ephemeral message to a response URL, when it is on Slack's hosts; any
// other is dropped (logged) and never fetched.
func (s *Server) respond(ctx context.Context, responseURL string, m message) {
	if responseURL == "" {
		return
	}
	ctx, cancel := s.replyContext(ctx)
	defer cancel()
	if !s.responseURLAllowed(responseURL) {
		host := "(unreadable)"
		if u, err := url.Parse(responseURL); err == nil {
			host = truncateRunes(u.Host, 80)
		}
		s.cfg.Logger.Warn("slack response_url dropped: not on Slack's hosts", "host", host)
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
	ctx, cancel := s.replyContext(ctx)
	defer cancel()
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

// replyTimeout bounds a reply sent after the work's own time ran out.
const replyTimeout = 10 * time.Second

// replyContext is ctx, or, when the work's time ran out (it waited for Temporal until its
// deadline), replyTimeout more to tell the person so: an outcome is never dropped for lack of
// time. A server that is closing sends nothing more.
func (s *Server) replyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || s.base.Err() != nil {
		return ctx, func() {}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
	stop := context.AfterFunc(s.base, cancel)
	return rctx, func() { stop(); cancel() }
}

func fmtUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// parseText is why a signed request could not be read, as Slack shows it: mrkdwn, so escaped.
func parseText(err error) string { return breachslack.Escape(fmt.Sprint(err)) }

// publicReason is a verification failure without its detail (the clock offset of a stale
// timestamp).
func publicReason(err error) string {
	for _, known := range []error{ErrMissingHeaders, ErrBadTimestamp, ErrStale, ErrBadSignature, ErrNoSecret} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "the request could not be verified"
}

// retry runs a Slack call up to three times when Slack is busy or failing (see
// breachslack.Retry). This runs after the acknowledgement, so waiting is fine.
func retry(ctx context.Context, call func() error) error { return breachslack.Retry(ctx, 3, call) }
