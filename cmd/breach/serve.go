package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/spf13/cobra"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/keys"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/web"
)

type serveFlags struct {
	addr       string
	socketMode bool
}

func newServeCmd(g *globals) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--socket-mode]",
		Short: "Serve Slack: the /breach command, buttons and modals (signed HTTP ingress, or Socket Mode)",
		Long: `Serve Slack: /breach declare|status|help, the decision buttons and the modals, and the
message shortcut that makes a CSV shared in an incident's channel its dataset. The declaration
form offers the datasets of the dataset store (datasets.dir), and shared CSVs are stored there:
give serve the worker's store.

Over HTTP (the default) Slack posts to /slack/commands and /slack/interactions on --addr.
GET /healthz is liveness: 200 while serve runs. GET /readyz is readiness: 200 when Temporal
answers, else 503 "not ready: Temporal does not answer" (checked at most every 3 s, each check
waiting at most 2 s); it is for monitoring, not for taking the ingress out of service. With
--socket-mode the same handlers receive Slack's requests over a WebSocket that breach opens,
for companies without a public URL; --addr then still answers /healthz and /readyz (and the
HTTP endpoints, if SLACK_SIGNING_SECRET is set), and --addr "" serves nothing.

serve starts without Temporal and connects when first needed: while Temporal is away, Slack's
requests are still acknowledged, and people are told that breach could not reach Temporal and
to try again in a minute or use the CLI runbook; a declaration that could not start is handed
back as the breach declare command that starts it. When Temporal answers again, so does serve,
without a restart.

With web.oidc or web.proxy configured, --addr also serves the deadline board under web.path
(default /board): see breach web and docs/board.md.

Only requests from the workspaces in the configuration's slack.team_ids (and its
slack.enterprise_id, if set) for the app slack.app_id are acted on: anything else is refused
(403; over Socket Mode, acknowledged and dropped), so serve refuses to start without them.

Environment: SLACK_BOT_TOKEN (xoxb-…, required; it also downloads shared files, from
files.slack.com only), SLACK_SIGNING_SECRET (HTTP), SLACK_APP_TOKEN
(xapp-…, Socket Mode), SLACK_API_URL (another Web API base URL). Temporal: TEMPORAL_ADDRESS
and the SDK's other settings. Run a worker with the same SLACK_BOT_TOKEN beside it. See
docs/slack.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), cmd.OutOrStdout(), cfg, f)
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", ":3000", "HOST:PORT the HTTP ingress listens on")
	cmd.Flags().BoolVar(&f.socketMode, "socket-mode", false, "receive Slack's requests over Socket Mode (SLACK_APP_TOKEN) instead of HTTP")
	return cmd
}

// serveEnv reads and checks the Slack settings; nothing starts on bad input.
func serveEnv(socketMode bool) (token, secret, appToken, apiURL string, err error) {
	token = os.Getenv("SLACK_BOT_TOKEN")
	secret = os.Getenv("SLACK_SIGNING_SECRET")
	appToken = os.Getenv("SLACK_APP_TOKEN")
	apiURL = os.Getenv("SLACK_API_URL")
	switch {
	case token == "":
		err = usagef("SLACK_BOT_TOKEN is not set: give the app's bot token (xoxb-…, OAuth & Permissions); see docs/slack.md")
	case !socketMode && secret == "":
		err = usagef("SLACK_SIGNING_SECRET is not set: give the app's signing secret (Basic Information), or use --socket-mode with SLACK_APP_TOKEN")
	case socketMode && !strings.HasPrefix(appToken, "xapp-"):
		err = usagef("--socket-mode needs SLACK_APP_TOKEN, an app-level token (xapp-…) with the connections:write scope (Basic Information → App-Level Tokens)")
	default:
		err = checkAPIURL("SLACK_API_URL", apiURL)
	}
	return token, secret, appToken, apiURL, err
}

// serveTrust checks that the configuration says whom breach serves: without a workspace and
// the app, any member of any workspace that installed an app with this signing secret could
// act.
func serveTrust(cfg *config.Config) error {
	where := "the configuration"
	if cfg.Path != "" {
		where = cfg.Path
	}
	switch {
	case len(cfg.Slack.TeamIDs) == 0:
		return usagef("%s names no Slack workspace: breach serve acts only for the workspaces in slack.team_ids; add\n  slack:\n    team_ids: [T…]   # the workspace id, in its URL https://app.slack.com/client/T…/\n    app_id: A…       # the app's Basic Information → App ID\nsee docs/slack.md", where)
	case cfg.Slack.AppID == "":
		return usagef("%s names no Slack app: breach serve acts only for the app slack.app_id; add app_id: A… (the app's Basic Information → App ID) under slack:; see docs/slack.md", where)
	}
	return nil
}

func runServe(ctx context.Context, out io.Writer, cfg *config.Config, f *serveFlags) error {
	if err := serveTrust(cfg); err != nil {
		return err
	}
	token, secret, appToken, apiURL, err := serveEnv(f.socketMode)
	if err != nil {
		return err
	}
	// The store the worker reads datasets from: the declaration form offers its datasets, and a
	// CSV shared in an incident's channel is added to it.
	store, err := openDatasets(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	// Slack must get an answer whether Temporal answers or not: serve starts without it, and
	// the client connects when first needed (and again after an outage).
	st, err := dialLazy(cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	var opts []slackgo.Option
	if f.socketMode {
		opts = append(opts, slackgo.OptionAppLevelToken(appToken))
	}
	api := breachslack.NewAPI(token, apiURL, nil, opts...)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := newIngress(cfg, st, store, api, token, secret, logger)
	if err != nil {
		return err
	}

	// The deadline board, beside the Slack ingress, when people can sign in to it.
	var board *web.Server
	if cfg.Web.SignIn() && f.addr != "" {
		if board, err = newBoard(cfg, st, false, logger); err != nil {
			srv.Close()
			return err
		}
	}
	errs := make(chan error, 2)
	hs, err := listenServe(cfg, f.addr, srv, board, errs)
	if err != nil {
		srv.Close()
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if f.socketMode {
		go func() {
			if err := srv.RunSocketMode(runCtx, ingress.NewSocketClient(api)); err != nil {
				errs <- fmt.Errorf("slack socket mode: %w", err)
			}
		}()
	}
	serveBanner(out, cfg, f, board)
	// The log says at once whether Temporal answers, and later when that changes.
	go func() { _ = srv.Ready(runCtx) }()

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errs:
	}
	stop()
	shutdownServe(hs, srv)
	return err
}

// newIngress is the Slack ingress of the configuration: its workspaces and app, who may
// declare, the inventory's systems and the dataset store's datasets.
func newIngress(cfg *config.Config, st *stack, store *datasets.Store, api *slackgo.Client, token, secret string, logger *slog.Logger) (*ingress.Server, error) {
	fw, err := newFirewalls(cfg)
	if err != nil {
		return nil, err
	}
	signer, err := ingressKey(cfg)
	if err != nil {
		return nil, err
	}
	return ingress.New(ingress.Config{
		SigningSecret: secret,
		TeamIDs:       cfg.Slack.TeamIDs,
		EnterpriseID:  cfg.Slack.EnterpriseID,
		AppID:         cfg.Slack.AppID,
		ResponseHosts: cfg.Slack.ResponseURLHosts,
		FileHosts:     cfg.Slack.FileHosts,
		BotToken:      token,
		Temporal:      ingress.NewTemporal(st.client, st.dc),
		Signer:        signer,
		API:           api,
		// Roles may name Slack user groups: the ingress expands them when an incident is declared.
		Defaults: func(d *incident.Declaration) {
			if err := declarationDefaults(cfg, d); err != nil {
				logger.Warn("declaration defaults", "error", err)
			}
		},
		Declarers: cfg.Roles.Declarers,
		Systems:   fw.Inventory().Names(),
		Datasets:  store,
		CheckSystems: func(systems []string) error {
			for _, s := range systems {
				if _, err := fw.Inventory().Resolve(s); err != nil {
					return err
				}
			}
			return nil
		},
		Logger: logger,
	})
}

// listenServe serves the ingress (and the board beside it) on addr, when there is one; a
// failure of the server later is sent to errs.
func listenServe(cfg *config.Config, addr string, srv *ingress.Server, board *web.Server, errs chan<- error) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w; choose another --addr", addr, err)
	}
	hs := srv.HTTPServer(addr)
	if board != nil {
		mux := http.NewServeMux()
		mux.Handle("/", hs.Handler)
		mux.Handle(cfg.Web.Path+"/", board.Handler())
		mux.Handle(cfg.Web.Path, board.Handler())
		hs.Handler = mux
		// An approval waits for the incident's answer, which may take longer than Slack's.
		hs.WriteTimeout = 60 * time.Second
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("serve %s: %w", addr, err)
		}
	}()
	return hs, nil
}

// serveBanner says where Slack's requests are received, for which workspaces, and where the
// health endpoints and the board are.
func serveBanner(out io.Writer, cfg *config.Config, f *serveFlags, board *web.Server) {
	if f.socketMode {
		fmt.Fprintf(out, "breach serve: receiving Slack's requests over Socket Mode")
	} else {
		fmt.Fprintf(out, "breach serve: Slack request URLs http://%s%s and http://%s%s, options load URL http://%s%s (put them behind HTTPS)",
			f.addr, ingress.PathCommands, f.addr, ingress.PathInteractions, f.addr, ingress.PathOptions)
	}
	fmt.Fprintf(out, "; serving workspace(s) %s, app %s", strings.Join(cfg.Slack.TeamIDs, ", "), cfg.Slack.AppID)
	if f.addr != "" {
		fmt.Fprintf(out, "; liveness on http://%s%s, readiness (Temporal answers) on http://%s%s", f.addr, ingress.PathHealth, f.addr, ingress.PathReady)
	}
	switch {
	case board != nil:
		fmt.Fprintf(out, "; the deadline board on %s (%s)", boardURL(cfg, f.addr), boardMode(cfg, board, false))
	case f.addr != "":
		fmt.Fprintf(out, "; no deadline board (configure web.oidc or web.proxy for it, see docs/board.md)")
	}
	fmt.Fprintln(out, "\nCtrl-C stops.")
}

// shutdownServe stops taking requests and lets the work already acknowledged finish (starting
// an incident, an Update), briefly.
func shutdownServe(hs *http.Server, srv *ingress.Server) {
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if hs != nil {
		_ = hs.Shutdown(shutdown)
	}
	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	srv.Close()
}

// ingressKey is the key the ingress signs Slack users' decisions with: BREACH_INGRESS_KEY_FILE,
// else BREACH_HOME/keys/slack-ingress.key. Incidents trust it only as the configuration's
// signing.slack_ingress (or, with signing.trust_local_keys, the public key beside it), so the
// two must agree before anything is served.
func ingressKey(cfg *config.Config) (ed25519.PrivateKey, error) {
	return serviceKey(cfg, serviceSigner{env: "BREACH_INGRESS_KEY_FILE", signer: incident.SlackIngress, name: "the Slack ingress's",
		field: "signing.slack_ingress", purpose: "the Slack ingress signs every decision it forwards",
		trusted: func(k incident.Keys) string { return k.SlackIngress }})
}

// serviceSigner describes a service that signs for the people it serves (the Slack ingress,
// the board): where its key is, and which configured key incidents trust for it.
type serviceSigner struct {
	env, signer, name, field, purpose string
	trusted                           func(incident.Keys) string
}

// serviceKey loads a service's signing key (the file its environment variable names, else its
// key in BREACH_HOME/keys) and checks that incidents trust it, so that nothing is served whose
// decisions every incident would refuse.
func serviceKey(cfg *config.Config, s serviceSigner) (ed25519.PrivateKey, error) {
	var k ed25519.PrivateKey
	var err error
	if p := os.Getenv(s.env); p != "" {
		k, err = keys.Load(p)
	} else {
		k, err = keys.LoadSigner(cfg.Home, s.signer)
	}
	if err != nil {
		return nil, usagef("%s: %v", s.purpose, err)
	}
	trusted, err := signingKeys(cfg, incident.Roles{})
	if err != nil {
		return nil, err
	}
	pub := incident.EncodePublicKey(k.Public().(ed25519.PublicKey))
	if s.trusted(trusted) != pub {
		return nil, usagef("%s key (%s) is not the one incidents trust (%s): set %s: %q", s.name, incident.KeyID(k.Public().(ed25519.PublicKey)), s.field, s.field, pub)
	}
	return k, nil
}
