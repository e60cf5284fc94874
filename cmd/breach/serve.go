package main

import (
	"context"
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

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/ingress"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/workflows"
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
		Long: `Serve Slack: /breach declare|status|help, the decision buttons and the modals.

Over HTTP (the default) Slack posts to /slack/commands and /slack/interactions on --addr;
GET /healthz answers ok. With --socket-mode the same handlers receive Slack's requests over
a WebSocket that breach opens, for companies without a public URL; --addr then still answers
/healthz (and the HTTP endpoints, if SLACK_SIGNING_SECRET is set), and --addr "" serves nothing.

Environment: SLACK_BOT_TOKEN (xoxb-…, required), SLACK_SIGNING_SECRET (HTTP), SLACK_APP_TOKEN
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

func runServe(ctx context.Context, out io.Writer, cfg *config.Config, f *serveFlags) error {
	token, secret, appToken, apiURL, err := serveEnv(f.socketMode)
	if err != nil {
		return err
	}
	fw, err := newFirewalls(cfg)
	if err != nil {
		return err
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	var opts []slackgo.Option
	if f.socketMode {
		opts = append(opts, slackgo.OptionAppLevelToken(appToken))
	}
	api := breachslack.NewAPI(token, apiURL, nil, opts...)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := ingress.New(ingress.Config{
		SigningSecret: secret,
		Temporal:      ingress.NewTemporal(c),
		API:           api,
		Defaults: func(d *workflows.Declaration) {
			declarationDefaults(cfg, d)
			// Roles may name Slack user groups: the incident keeps their members at declaration.
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var err error
			if d.Roles.DPO, err = breachslack.ExpandUserGroups(ctx, api, d.Roles.DPO); err != nil {
				logger.Warn("roles.dpo", "error", err)
			}
			if d.Roles.Commander, err = breachslack.ExpandUserGroups(ctx, api, d.Roles.Commander); err != nil {
				logger.Warn("roles.commander", "error", err)
			}
		},
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
	if err != nil {
		return err
	}

	errs := make(chan error, 2)
	var hs *http.Server
	if f.addr != "" {
		ln, err := net.Listen("tcp", f.addr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("listen on %s: %w; choose another --addr", f.addr, err)
		}
		hs = srv.HTTPServer(f.addr)
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("serve %s: %w", f.addr, err)
			}
		}()
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if f.socketMode {
		go func() {
			if err := srv.RunSocketMode(runCtx, ingress.NewSocketClient(api)); err != nil {
				errs <- fmt.Errorf("slack socket mode: %w", err)
			}
		}()
		fmt.Fprintf(out, "breach serve: receiving Slack's requests over Socket Mode")
	} else {
		fmt.Fprintf(out, "breach serve: Slack request URLs http://%s%s and http://%s%s (put them behind HTTPS)", f.addr, ingress.PathCommands, f.addr, ingress.PathInteractions)
	}
	if f.addr != "" {
		fmt.Fprintf(out, "; health on http://%s%s", f.addr, ingress.PathHealth)
	}
	fmt.Fprintln(out, "\nCtrl-C stops.")

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errs:
	}
	stop()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if hs != nil {
		_ = hs.Shutdown(shutdown)
	}
	// Let the work already acknowledged finish (starting an incident, an Update), briefly.
	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	srv.Close()
	return err
}
