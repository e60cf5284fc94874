package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/codec"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/console"
	"github.com/breachops/breach/internal/devserver"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/redact"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

type globals struct {
	configPath string
	cfg        *config.Config
}

func (g *globals) config() (*config.Config, error) {
	if g.cfg != nil {
		return g.cfg, nil
	}
	cfg, err := config.Load(g.configPath)
	if err != nil {
		var problems config.Problems
		if errors.As(err, &problems) {
			return nil, err // exit code 2, each problem at its line
		}
		return nil, usagef("%v", err)
	}
	g.cfg = cfg
	return cfg, nil
}

// clientOptions come from the SDK's envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API
// key settings, or a temporal.toml profile. Every client and worker of this binary gets the
// payload codec: incident data reaches Temporal encrypted with the keys payloadKeys finds.
func clientOptions(cfg *config.Config) (client.Options, *codec.Keys, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return client.Options{}, nil, usagef("Temporal client configuration: %v", redact.Error(err))
	}
	if opts.HostPort == "" {
		opts.HostPort = devserver.DefaultAddress
	}
	keys, err := payloadKeys(cfg, opts.HostPort)
	if err != nil {
		return client.Options{}, nil, err
	}
	opts.DataConverter = codec.NewDataConverter(keys)
	opts.FailureConverter = codec.NewFailureConverter(opts.DataConverter)
	opts.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	return opts, keys, nil
}

// payloadKeys are the keys of BREACH_CODEC_KEYS or of the file BREACH_CODEC_KEYS_FILE names;
// with neither, the key file in BREACH_HOME, created on first use when the Temporal server is on
// this machine (the embedded default). For a server elsewhere breach makes no key of its own:
// workers and CLIs on other machines could not read what it encrypted.
func payloadKeys(cfg *config.Config, hostPort string) (*codec.Keys, error) {
	keys, err := codec.Load(codec.SourceFromEnv(cfg.Home, isLocalAddress(hostPort)))
	if errors.Is(err, codec.ErrNoKeys) {
		return nil, usagef("Temporal at %s is not on this machine, so breach makes no payload key of its own: %v", hostPort, err)
	}
	if err != nil {
		return nil, usagef("payload encryption keys: %v", err)
	}
	return keys, nil
}

// isLocalAddress reports whether host:port names this machine.
func isLocalAddress(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// dial connects to Temporal, which must already be running.
func dial(ctx context.Context, cfg *config.Config) (*stack, error) {
	opts, keys, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	if !devserver.Answers(ctx, opts.HostPort) {
		return nil, fmt.Errorf("no Temporal server answers at %s: start the local stack with `breach dev` in another terminal, or set TEMPORAL_ADDRESS", opts.HostPort)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	st := &stack{client: explain(c, opts), raw: c, dc: opts.DataConverter, keys: keys, namespace: namespaceOf(opts)}
	if isLocalAddress(opts.HostPort) {
		st.uiURL = "http://localhost:" + devserver.UIPort // the embedded server's UI, presumably
	}
	return st, nil
}

func namespaceOf(opts client.Options) string {
	if opts.Namespace == "" {
		return client.DefaultNamespace
	}
	return opts.Namespace
}

// dialLazy makes a client that connects on first use, for a process that must run while
// Temporal is away (breach serve): nothing is dialed here, and the connection is made again,
// with backoff, whenever it fails. Only bad settings are an error.
func dialLazy(cfg *config.Config) (*stack, error) {
	opts, keys, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, usagef("Temporal client for %s: %v", opts.HostPort, redact.Error(err))
	}
	return &stack{client: explain(c, opts), raw: c, dc: opts.DataConverter, keys: keys}, nil
}

// explain wraps c so that queries and Updates of a workflow whose tasks keep failing say why.
func explain(c client.Client, opts client.Options) client.Client {
	ns := opts.Namespace
	if ns == "" {
		ns = client.DefaultNamespace
	}
	return explainingClient{Client: c, namespace: ns, fc: opts.FailureConverter}
}

// stack is a Temporal connection, and the embedded dev server (with the codec endpoint of its
// UI) when this process started one.
type stack struct {
	// client is for commands: its queries and Updates explain a stuck workflow (explain); raw is
	// the SDK's client itself, which workers need.
	client client.Client
	raw    client.Client
	// dc is the client's data converter: memos are read through it.
	dc    converter.DataConverter
	keys  *codec.Keys
	uiURL string
	// namespace is the incidents' namespace, for links into the Temporal UI.
	namespace string

	server *devserver.Server
	codec  *http.Server
}

func (s *stack) Close() {
	if s.client != nil {
		s.client.Close()
	}
	if s.server != nil {
		_ = s.server.Stop()
	}
	if s.codec != nil {
		_ = s.codec.Close()
	}
}

// ensureStack connects to Temporal, starting the embedded dev server when nothing answers at a
// local address. The dev server's UI then shows incident data decrypted, through a codec
// endpoint this process serves on the same host, for the UI's origin only.
func ensureStack(ctx context.Context, cfg *config.Config, log io.Writer) (*stack, error) {
	opts, keys, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	st := &stack{dc: opts.DataConverter, keys: keys, uiURL: "http://localhost:" + devserver.UIPort, namespace: namespaceOf(opts)}
	if !devserver.Answers(ctx, opts.HostPort) {
		if !isLocalAddress(opts.HostPort) {
			return nil, fmt.Errorf("no Temporal server answers at %s; the embedded dev server only runs on this machine: unset TEMPORAL_ADDRESS or start the server", opts.HostPort)
		}
		host, _, _ := net.SplitHostPort(opts.HostPort)
		endpoint := st.startUICodec(host, log)
		fmt.Fprintf(log, "Starting the Temporal dev server at %s (state in %s)…\n", opts.HostPort, filepath.Join(cfg.Home, "temporal.db"))
		srv, err := devserver.Start(ctx, devserver.Options{Address: opts.HostPort, Namespace: opts.Namespace,
			DBFile: filepath.Join(cfg.Home, "temporal.db"), UICodecEndpoint: endpoint})
		if err != nil {
			st.Close()
			return nil, err
		}
		st.server = srv
		st.uiURL = srv.UIURL
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	st.client, st.raw = explain(c, opts), c
	return st, nil
}

// startUICodec serves the codec protocol on host:UICodecPort for the embedded UI and returns its
// URL, or "" (the UI then shows payloads encrypted) when the port is taken.
func (s *stack) startUICodec(host string, log io.Writer) string {
	addr := net.JoinHostPort(host, devserver.UICodecPort)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(log, "note: the Temporal UI will show incident data encrypted: %s is taken (%v); run `breach codec-server` and set the UI's codec endpoint\n", addr, err)
		return ""
	}
	origins := []string{"http://127.0.0.1:" + devserver.UIPort, "http://localhost:" + devserver.UIPort}
	if o := "http://" + net.JoinHostPort(host, devserver.UIPort); !slices.Contains(origins, o) {
		origins = append(origins, o)
	}
	s.codec = &http.Server{Addr: addr, Handler: codec.NewHandler(codec.New(s.keys), codec.ServerOptions{Origins: origins}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.codec.Serve(ln) }()
	return "http://" + addr
}

// buildActivities wires the adapters the configuration names: with none, the local ones.
func buildActivities(cfg *config.Config, chatOut io.Writer) (*activities.Activities, error) {
	fw, err := newFirewalls(cfg)
	if err != nil {
		return nil, err
	}
	records, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	chat, err := newChat(cfg, chatOut, records)
	if err != nil {
		return nil, err
	}
	mailer, err := newMail(cfg, records)
	if err != nil {
		return nil, err
	}
	store, err := openDatasets(cfg)
	if err != nil {
		return nil, err
	}
	pilot, err := autopilotKey(cfg)
	if err != nil {
		return nil, fmt.Errorf("the drill auto-pilot's signing key: %w", err)
	}
	lim, err := subjectLimits()
	if err != nil {
		return nil, err
	}
	key, err := pseudonymKey(cfg)
	if err != nil {
		return nil, err
	}
	return &activities.Activities{
		Chat:          chat,
		Mail:          mailer,
		Firewalls:     fw,
		Datasets:      activities.StoreDatasets{Store: store},
		AutopilotKey:  pilot,
		Records:       records,
		Dir:           cfg.Home,
		SubjectLimits: lim,
		Pseudonyms:    key,
		Register:      &lazyRegister{cfg: cfg},
	}, nil
}

// openStore opens the installation's store: BREACH_STORE_URL (s3://… for a cluster, whose
// workers must all reach it), else BREACH_HOME.
func openStore(cfg *config.Config) (*store.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, os.Getenv("BREACH_STORE_URL"), cfg.Home)
	if err != nil {
		return nil, usagef("BREACH_STORE_URL: %v", err)
	}
	return st, nil
}

// storeWhere names the store for people: BREACH_STORE_URL without its query (where
// credentials may be), else BREACH_HOME.
func storeWhere(cfg *config.Config) string {
	if u, err := url.Parse(os.Getenv("BREACH_STORE_URL")); err == nil && u.Scheme != "" {
		return u.Scheme + "://" + u.Host + u.Path
	}
	return cfg.Home
}

// pseudonymKey is the installation's pseudonym key (internal/pseudonym): BREACH_PSEUDONYM_KEY,
// or the file BREACH_PSEUDONYM_KEY_FILE names, else BREACH_HOME/pseudonym.key, made on first use.
// With a PostgreSQL ledger, workers on several machines share the ledger, so they must share
// the key: it must then come from the environment.
func pseudonymKey(cfg *config.Config) (*pseudonym.Key, error) {
	dsn := os.Getenv("BREACH_LEDGER_DSN")
	shared := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	if shared && os.Getenv(pseudonym.EnvKey) == "" && os.Getenv(pseudonym.EnvKeyFile) == "" {
		return nil, usagef("BREACH_LEDGER_DSN is a shared PostgreSQL ledger: give every worker the same pseudonym key with %s or %s (e.g. the output of `openssl rand -hex 32`); a key made on one machine would not match the others'",
			pseudonym.EnvKey, pseudonym.EnvKeyFile)
	}
	k, err := pseudonym.Load(os.Getenv, cfg.Home)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return k, nil
}

// subjectLimits reads BREACH_SUBJECTS_MAX_RECORD and BREACH_SUBJECTS_MAX_FIELD (bytes, or with
// KiB or MiB); unset means the defaults of internal/subjects.
func subjectLimits() (subjects.Limits, error) {
	var lim subjects.Limits
	for _, v := range []struct {
		env string
		dst *int
	}{{"BREACH_SUBJECTS_MAX_RECORD", &lim.MaxRecord}, {"BREACH_SUBJECTS_MAX_FIELD", &lim.MaxField}} {
		s := os.Getenv(v.env)
		if s == "" {
			continue
		}
		n, err := parseByteSize(s)
		if err != nil {
			return lim, usagef("%s=%q: %v; give a size such as 65536, 64KiB or 1MiB", v.env, s, err)
		}
		*v.dst = n
	}
	if err := lim.Check(); err != nil {
		return lim, usagef("BREACH_SUBJECTS_MAX_RECORD/BREACH_SUBJECTS_MAX_FIELD: %v", err)
	}
	return lim, nil
}

// parseByteSize reads a positive size: a number of bytes, or one followed by KiB or MiB.
func parseByteSize(s string) (int, error) {
	mult := 1
	num := s
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > math.MaxInt32/mult {
		return 0, errors.New("not a positive size")
	}
	return n * mult, nil
}

// sqliteLedgerPragmas are the ledger's SQLite settings (WAL, a busy timeout, immediate
// transactions) plus two for a million outcome rows keyed by hash, each batch touching a
// thousand pages: a checkpoint every 50,000 WAL pages rather than 1,000, and an 8 MiB page
// cache. Together they make recording a batch about twice as cheap; the cache also bounds the
// memory of SQLite's sorter (a larger one let the ledger's progress count take 65 MB more).
const sqliteLedgerPragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate" +
	"&_pragma=cache_size(-8192)&_pragma=wal_autocheckpoint(50000)"

// newMail is SendGrid when SENDGRID_API_KEY is set (SENDGRID_API_HOST; customer notices and
// reports, exactly once through the ledger at BREACH_LEDGER_DSN, by default ledger.db in
// BREACH_HOME; BREACH_EMAIL_ACTIVITY_LAG), else the outbox folder.
func newMail(cfg *config.Config, records *store.Store) (activities.Mailer, error) {
	key := os.Getenv("SENDGRID_API_KEY")
	if key == "" {
		if records.Dir() == "" {
			return mail.StoreOutbox{Store: records}, nil
		}
		return mail.Outbox{Dir: filepath.Join(records.Dir(), "outbox")}, nil
	}
	lag := time.Duration(-1) // the default
	if v := os.Getenv("BREACH_EMAIL_ACTIVITY_LAG"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, usagef("BREACH_EMAIL_ACTIVITY_LAG=%q: give a duration such as 2m, or 0s", v)
		}
		lag = d
	}
	dsn := os.Getenv("BREACH_LEDGER_DSN")
	if dsn == "" {
		if err := os.MkdirAll(cfg.Home, 0o750); err != nil {
			return nil, fmt.Errorf("create %s for the notification ledger: %w", cfg.Home, err)
		}
		dsn = "file:" + filepath.Join(cfg.Home, "ledger.db") + sqliteLedgerPragmas
	}
	sg, err := activities.NewSendGridMail(context.Background(), activities.SendGridConfig{
		APIKey: key, Host: os.Getenv("SENDGRID_API_HOST"), LedgerDSN: dsn, ActivityLag: lag})
	if err != nil {
		return nil, fmt.Errorf("email through SendGrid: %w", err)
	}
	return sg, nil
}

// newChat is the Slack adapter when SLACK_BOT_TOKEN is set (SLACK_API_URL, SLACK_RESPONDERS),
// else the console. The Slack users among the roles (of the workspaces in slack.team_ids) are
// invited and receive urgent messages.
func newChat(cfg *config.Config, out io.Writer, records *store.Store) (incident.Chat, error) {
	token := os.Getenv("SLACK_BOT_TOKEN")
	if token == "" {
		return &console.Chat{Dir: cfg.Home, Out: out}, nil
	}
	if err := checkAPIURL("SLACK_API_URL", os.Getenv("SLACK_API_URL")); err != nil {
		return nil, err
	}
	return breachslack.New(breachslack.Config{Token: token, APIURL: os.Getenv("SLACK_API_URL"), Store: records,
		Responders: breachslack.SplitList(os.Getenv("SLACK_RESPONDERS")), DPO: cfg.Roles.DPO, Commanders: cfg.Roles.Commander,
		Teams: cfg.Slack.TeamIDs})
}

// checkAPIURL refuses an API base URL that would leak the token it carries: not a URL, one
// with a password or a query, or http:// to anything but a loopback address. The value is
// shown redacted.
func checkAPIURL(name, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return usagef("%s=%s is not an http(s) URL; write it like https://slack.com/api/", name, redact.URL(v))
	case u.User != nil || u.RawQuery != "":
		return usagef("%s=%s: a base URL holds no user, password or query; the token goes in its own variable", name, redact.URL(v))
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return usagef("%s=%s would send the token in clear: use https:// (http is accepted for loopback addresses only, for tests)", name, redact.URL(v))
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// declarationDefaults copies the configuration into a declaration, so the incident keeps the
// roles, routes and keys it was declared with.
func declarationDefaults(cfg *config.Config, d *incident.Declaration) error {
	o := cfg.Organisation
	d.Organisation = incident.Organisation{Name: o.Name, Timezone: o.Timezone, Role: o.Role,
		Establishments: o.Establishments, Sectors: o.Sectors, DPOContact: o.DPOContact,
		MailFrom: o.MailFrom, SubjectContact: o.SubjectContact}
	d.Roles = incident.Roles{DPO: cfg.Roles.DPO, Commander: cfg.Roles.Commander}
	d.ReleaseOnClose = cfg.Containment.ReleaseOnClose
	d.Reminders = incident.ReminderPolicy{Every: cfg.Reminders.Every, SlowAfter: cfg.Reminders.SlowAfter, DailyAfter: cfg.Reminders.DailyAfter}
	d.Budget = cfg.Workflows.EventBudget
	for _, r := range cfg.Routes {
		d.Routes = append(d.Routes, incident.Route{Obligation: r.Obligation, Method: r.Method, Address: r.Address, Name: r.Name})
	}
	var err error
	d.Keys, err = signingKeys(cfg, d.Roles)
	return err
}

func uiLink(uiURL, incidentID string) string {
	return fmt.Sprintf("%s/namespaces/default/workflows/%s", uiURL, urlPathEscape(incident.IncidentWorkflowID(incidentID)))
}
