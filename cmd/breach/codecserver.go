package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/internal/codec"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/devserver"
)

type codecServerFlags struct {
	listen       string
	origins      []string
	authTokenEnv string
}

func newCodecServerCmd(g *globals) *cobra.Command {
	f := &codecServerFlags{}
	cmd := &cobra.Command{
		Use:   "codec-server [--listen HOST:PORT] [--cors-origin URL…] [--auth-token-env NAME]",
		Short: "Serve the remote codec, so the Temporal UI and CLI show the incident data breach encrypts",
		Long: `Serve Temporal's remote codec protocol (POST /encode, POST /decode) with the keys the workers
use, so that the Temporal UI and CLI can show incident data, which breach encrypts before it
reaches Temporal:

  temporal workflow show --codec-endpoint http://127.0.0.1:8234 -w incident/INC-…
  Temporal UI: its codec endpoint (TEMPORAL_CODEC_ENDPOINT, or the data encoder settings)

Browsers may call it only from the --cors-origin origins (the UI's address). With
--auth-token-env NAME, every request must carry "Authorization: Bearer <token>", the token being
the value of $NAME: the Temporal CLI sends it with --codec-auth "Bearer $NAME"; the Temporal UI
sends its signed-in user's access token when its codec setting passAccessToken is on
(TEMPORAL_CODEC_PASS_ACCESS_TOKEN). A listen address other machines can reach needs a token.

Keys: BREACH_CODEC_KEYS or BREACH_CODEC_KEYS_FILE, else the key file in BREACH_HOME (never
created here). See docs/codec.md. 'breach dev' serves this endpoint for its own UI by itself.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			return runCodecServer(cmd.Context(), cmd.OutOrStdout(), cfg, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", net.JoinHostPort("127.0.0.1", devserver.UICodecPort), "HOST:PORT to listen on")
	fl.StringArrayVar(&f.origins, "cors-origin", []string{"http://127.0.0.1:" + devserver.UIPort, "http://localhost:" + devserver.UIPort},
		"browser origin allowed to call (the Temporal UI's scheme://host:port; repeatable)")
	fl.StringVar(&f.authTokenEnv, "auth-token-env", "", "environment variable holding the bearer token every request must carry")
	return cmd
}

// check validates the flags and returns the token; nothing listens on bad input.
func (f *codecServerFlags) check() (token string, err error) {
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return "", usagef("--listen %q: %v; write HOST:PORT, e.g. 127.0.0.1:%s", f.listen, err, devserver.UICodecPort)
	}
	for _, o := range f.origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return "", usagef("--cors-origin %q is not an origin: write scheme://host[:port] as the browser shows the Temporal UI, e.g. http://127.0.0.1:%s", o, devserver.UIPort)
		}
	}
	if f.authTokenEnv != "" {
		token = os.Getenv(f.authTokenEnv)
		switch {
		case token == "":
			return "", usagef("--auth-token-env %s: $%s is empty: put the bearer token in it, e.g. export %s=$(head -c 24 /dev/urandom | base64)", f.authTokenEnv, f.authTokenEnv, f.authTokenEnv)
		case len(token) < 16:
			return "", usagef("--auth-token-env %s: the token is %d characters; use at least 16 random ones, e.g. $(head -c 24 /dev/urandom | base64)", f.authTokenEnv, len(token))
		}
	}
	if token == "" && !isLocalAddress(f.listen) {
		return "", usagef("--listen %s answers other machines, and the codec server decrypts for anyone it answers: give --auth-token-env NAME, or listen on 127.0.0.1 behind a proxy that authenticates", f.listen)
	}
	return token, nil
}

func runCodecServer(ctx context.Context, out io.Writer, cfg *config.Config, f *codecServerFlags) error {
	token, err := f.check()
	if err != nil {
		return err
	}
	keys, err := codec.Load(codec.SourceFromEnv(cfg.Home, false))
	if err != nil {
		return usagef("codec-server: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; choose another --listen", f.listen, err)
	}
	srv := &http.Server{
		Handler:           codec.NewHandler(codec.New(keys), codec.ServerOptions{Origins: f.origins, Token: token, Log: logger}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	endpoint := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "breach codec-server: %s (POST /encode, /decode) with keys %s\n  browser origins allowed: %s\n", endpoint, keys, strings.Join(f.origins, ", "))
	auth := ""
	if token != "" {
		fmt.Fprintf(out, "  every request needs Authorization: Bearer <$%s>\n", f.authTokenEnv)
		auth = fmt.Sprintf(" --codec-auth \"Bearer $%s\"", f.authTokenEnv)
	} else {
		fmt.Fprintf(out, "  no token: whoever reaches %s can decrypt\n", ln.Addr())
	}
	fmt.Fprintf(out, "  Temporal CLI: temporal workflow show --codec-endpoint %s%s -w incident/<ID>\n  Temporal UI: codec endpoint %s\nCtrl-C stops.\n", endpoint, auth, endpoint)

	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errs:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("codec-server on %s: %w", f.listen, err)
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return nil
}
