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
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/keys"
	"github.com/breachops/breach/internal/web"
)

// DevBoardAddr is where `breach dev` serves the board, read-only, for this machine's browser.
const DevBoardAddr = "127.0.0.1:8235"

type webFlags struct {
	addr  string
	local bool
}

func newWebCmd(g *globals) *cobra.Command {
	f := &webFlags{}
	cmd := &cobra.Command{
		Use:   "web [--addr HOST:PORT] [--local]",
		Short: "Serve the deadline board: open incidents, their legal clocks, reports and the register",
		Long: `Serve the deadline board on its own address, under web.path (default /board): the open
incidents with their phase and containment, every legal obligation with its deadline (in the
viewer's time zone and UTC), a live countdown and its escalation stage, what waits for whom;
each incident's timeline, decision, reports, alerts and evidence; the register of closed
incidents. breach serve serves the same board beside the Slack ingress.

Nobody sees a page without signing in: configure web.oidc (an OpenID Connect provider; the
client secret in BREACH_WEB_OIDC_CLIENT_SECRET or the file BREACH_WEB_OIDC_CLIENT_SECRET_FILE) or
web.proxy (a reverse proxy that signed people in), and map claims to roles in web.roles. With
web.actions, people holding the dpo role approve reports and record portal filings; the board
signs for them with its key (breach keys init --web; BREACH_WEB_KEY_FILE, else
BREACH_HOME/keys/web.key), which incidents trust as signing.web.

--local serves the board read-only without sign-in, on a loopback address only: for a demo on
this machine (breach dev does so on ` + DevBoardAddr + `).

The board reads reports, evidence and register entries from BREACH_HOME: give it the workers'.
Sessions are signed with BREACH_WEB_SESSION_KEY_FILE, else BREACH_HOME/keys/web-session.key
(made on first use); boards behind one address share it. Temporal: TEMPORAL_ADDRESS and the
SDK's other settings. See docs/board.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			return runWeb(cmd.Context(), cmd.OutOrStdout(), cfg, f)
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", ":8090", "HOST:PORT the board listens on")
	cmd.Flags().BoolVar(&f.local, "local", false, "read-only, without sign-in, on a loopback address: for a demo on this machine")
	return cmd
}

func runWeb(ctx context.Context, out io.Writer, cfg *config.Config, f *webFlags) error {
	if f.local && !loopbackAddr(f.addr) {
		return usagef("--local serves the board without sign-in, so only on a loopback address: give --addr 127.0.0.1:PORT")
	}
	if !f.local && !cfg.Web.SignIn() {
		return usagef("%s: the board shows nothing without sign-in: configure web.oidc or web.proxy (see docs/board.md), or use --local for a read-only demo on this machine", where(cfg))
	}
	st, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	board, err := newBoard(cfg, st, f.local, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; choose another --addr", f.addr, err)
	}
	hs := board.HTTPServer(f.addr)
	errs := make(chan error, 1)
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("serve %s: %w", f.addr, err)
		}
	}()
	fmt.Fprintf(out, "breach web: the deadline board on %s (%s)\nCtrl-C stops.\n", boardURL(cfg, ln.Addr().String()), boardMode(cfg, board, f.local))
	select {
	case <-ctx.Done():
		err = nil
	case err = <-errs:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdown)
	return err
}

func where(cfg *config.Config) string {
	if cfg.Path != "" {
		return cfg.Path
	}
	return "the configuration"
}

// boardURL is where people open the board: its public URL, else the address it listens on.
func boardURL(cfg *config.Config, addr string) string {
	if cfg.Web.PublicURL != "" {
		return strings.TrimSuffix(cfg.Web.PublicURL, "/") + "/"
	}
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || host == "::" || host == "0.0.0.0") {
		addr = net.JoinHostPort("localhost", port)
	}
	return "http://" + addr + cfg.Web.Path + "/"
}

func boardMode(cfg *config.Config, b *web.Server, local bool) string {
	var sign string
	switch {
	case local:
		return "read-only, no sign-in, this machine only"
	case cfg.Web.OIDC != nil:
		sign = "sign-in with " + cfg.Web.OIDC.Issuer
	default:
		sign = "sign-in through the proxy at " + strings.Join(cfg.Web.Proxy.Trusted, ", ")
	}
	if b.ReadOnly() {
		return sign + "; read-only"
	}
	return sign + "; people holding the dpo role approve reports and record filings"
}

func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return isLoopbackHost(host)
}

// newBoard wires the board from the configuration: sign-in, roles, its key when actions are
// on, the session key, and where the Temporal UI shows an incident.
func newBoard(cfg *config.Config, st *stack, local bool, logger *slog.Logger) (*web.Server, error) {
	w := cfg.Web
	records, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	bc := web.Config{
		Temporal:  ingress.NewTemporal(st.client, st.dc),
		Records:   records,
		Prefix:    w.Path,
		PublicURL: w.PublicURL,
		Local:     local,
		Roles:     web.RoleMap{Viewer: w.Roles.Viewer, DPO: w.Roles.DPO, Commander: w.Roles.Commander},
		Session:   w.Session,
		Namespace: st.namespace,
		Timezone:  cfg.Organisation.Timezone,
		Logger:    logger,
	}
	bc.TemporalUI = w.TemporalUI
	if bc.TemporalUI == "" {
		bc.TemporalUI = st.uiURL // the embedded server's, when Temporal runs on this machine
	}
	if local {
		return web.New(bc)
	}
	if o := w.OIDC; o != nil {
		secret, err := secretFromEnv("BREACH_WEB_OIDC_CLIENT_SECRET")
		if err != nil {
			return nil, err
		}
		bc.OIDC = &web.OIDC{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: secret, Scopes: o.Scopes, RolesClaim: o.RolesClaim}
	}
	if p := w.Proxy; p != nil {
		bc.Proxy = &web.Proxy{UserHeader: p.UserHeader, GroupsHeader: p.GroupsHeader, Issuer: p.Issuer}
		for _, t := range p.Trusted {
			pfx, err := netip.ParsePrefix(t)
			if err != nil {
				a, aerr := netip.ParseAddr(t)
				if aerr != nil {
					return nil, usagef("web.proxy.trusted: %q is not an IP address or CIDR prefix", t)
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			bc.Proxy.Trusted = append(bc.Proxy.Trusted, pfx)
		}
	}
	path := os.Getenv("BREACH_WEB_SESSION_KEY_FILE")
	if path == "" {
		path = filepath.Join(keys.Dir(cfg.Home), "web-session.key")
	}
	sk, err := web.LoadSessionKey(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	bc.SessionKey = sk
	if w.Actions {
		if bc.Signer, err = webKey(cfg); err != nil {
			return nil, err
		}
	}
	return web.New(bc)
}

// secretFromEnv reads a secret from NAME, or from the file NAME_FILE names; "" when neither is
// set (a public client).
func secretFromEnv(name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	p := os.Getenv(name + "_FILE")
	if p == "" {
		return "", nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", usagef("%s_FILE=%s: %v", name, p, err)
	}
	return strings.TrimSpace(string(data)), nil
}

// webKey is the key the board signs people's decisions with: BREACH_WEB_KEY_FILE, else
// BREACH_HOME/keys/web.key. Incidents trust it only as signing.web (or, with
// signing.trust_local_keys, the public key beside it), so the two must agree.
func webKey(cfg *config.Config) (ed25519.PrivateKey, error) {
	return serviceKey(cfg, serviceSigner{env: "BREACH_WEB_KEY_FILE", signer: incident.WebDashboard, name: "the board's",
		field: "signing.web", purpose: "with web.actions the board signs what people approve",
		trusted: func(k incident.Keys) string { return k.Web }})
}

// serveDevBoard serves the board read-only on a loopback address for `breach dev`; it stops
// with ctx.
func serveDevBoard(ctx context.Context, cfg *config.Config, st *stack, addr string) (string, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	board, err := newBoard(cfg, st, true, logger)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("the board on %s: %w; choose another --board, or --board \"\" for none", addr, err)
	}
	hs := board.HTTPServer(addr)
	go func() { _ = hs.Serve(ln) }()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()
	return "http://" + ln.Addr().String() + cfg.Web.Path + "/", nil
}
