package e2e

// A production Temporal server for the tests: the server binary (not the dev server) of the
// version the pinned Temporal CLI embeds, on the machine's PostgreSQL, its schema set up by
// Temporal's own SQL tool, configured as docker-compose.yml configures it for production.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// temporalServerVersion is the server the pinned Temporal CLI (v1.5.1) embeds; the Makefile
// builds it into ./bin.
const temporalServerVersion = "1.29.1"

// defaultNamespaceRetention is what docker-compose.yml's temporalio/auto-setup image gives the
// default namespace.
const defaultNamespaceRetention = 24 * time.Hour

// serverStack is a running Temporal server and the two PostgreSQL databases it owns.
type serverStack struct {
	// addr is the frontend's host:port.
	addr string
	dir  string
	// log is the server's own log (level error); out its standard output and error.
	log, out string
	pg       pgTarget
	dbs      []string
	cmd      *exec.Cmd
	done     chan struct{}
}

// pgTarget is a PostgreSQL server and the role the tests connect as.
type pgTarget struct {
	host     string
	port     int
	user     string
	password string
	// adminDB is the database the tests connect to to create and drop theirs.
	adminDB string
}

func (p pgTarget) dsn(db string) string {
	u := p.user
	if p.password != "" {
		u += ":" + p.password
	}
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", u, net.JoinHostPort(p.host, strconv.Itoa(p.port)), db)
}

func (p pgTarget) String() string {
	return fmt.Sprintf("%s@%s", p.user, net.JoinHostPort(p.host, strconv.Itoa(p.port)))
}

// temporalServerBins finds the server and its SQL tool: $BREACH_TEMPORAL_SERVER_BIN and
// $BREACH_TEMPORAL_SQL_TOOL_BIN, else ../bin/temporal-server and ../bin/temporal-sql-tool. A
// server of another version fails the test: the tests pin the one the CLI embeds.
func temporalServerBins(tb testing.TB) (server, sqlTool string) {
	tb.Helper()
	const how = "`make temporal-server` builds the Temporal server v" + temporalServerVersion + " and its SQL tool into ./bin"
	find := func(env, name string) string {
		tb.Helper()
		if p := os.Getenv(env); p != "" {
			if _, err := os.Stat(p); err != nil {
				tb.Fatalf("%s=%s: %v; %s", env, p, err, how)
			}
			return p
		}
		p := filepath.Join(moduleRoot, "bin", name)
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("the %s is not at %s (%v): %s, or set %s", name, p, err, how, env)
		}
		return p
	}
	server = find("BREACH_TEMPORAL_SERVER_BIN", "temporal-server")
	sqlTool = find("BREACH_TEMPORAL_SQL_TOOL_BIN", "temporal-sql-tool")
	out, err := exec.Command(server, "--version").CombinedOutput()
	if err != nil {
		tb.Fatalf("%s --version: %v\n%s", server, err, out)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasSuffix(got, " "+temporalServerVersion) {
		tb.Fatalf("%s is %q, want version %s: %s", server, got, temporalServerVersion, how)
	}
	return server, sqlTool
}

// findPostgres returns the first PostgreSQL role that answers on 127.0.0.1:5432 (trust
// authentication, as the machine is set up), or the server and role $BREACH_TEST_POSTGRES_DSN
// names. No PostgreSQL fails the test: the production topology cannot be tested without it.
func findPostgres(tb testing.TB) pgTarget {
	tb.Helper()
	candidates := []string{
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"postgres://root@127.0.0.1:5432/postgres?sslmode=disable",
	}
	if v := os.Getenv("BREACH_TEST_POSTGRES_DSN"); v != "" {
		candidates = []string{v}
	}
	var errs []string
	for _, dsn := range candidates {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			errs = append(errs, fmt.Sprintf("BREACH_TEST_POSTGRES_DSN does not parse: %v", err))
			continue
		}
		target := pgTarget{host: cfg.Host, port: int(cfg.Port), user: cfg.User, password: cfg.Password, adminDB: cfg.Database}
		if target.adminDB == "" {
			target.adminDB = "postgres"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, target.dsn(target.adminDB))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return target
		}
		errs = append(errs, fmt.Sprintf("%s: %v", target, err))
	}
	tb.Fatalf("no PostgreSQL answers for the production-topology test (%s): start it with .ci/run, which starts "+
		"PostgreSQL and runs make test, or with `pg_ctlcluster <version> main start` (versions in /etc/postgresql); "+
		"or name another server with BREACH_TEST_POSTGRES_DSN=postgres://user@host:port/postgres",
		strings.Join(errs, "; "))
	return pgTarget{}
}

// startServer creates two fresh databases, sets up Temporal's schema in them with its SQL tool,
// starts the server on free local ports with the dynamic configuration of deploy/ (what
// docker-compose.yml gives the production server), registers the default namespace and waits
// until it serves. The server stops and the databases are dropped when the test ends.
func startServer(tb testing.TB) *serverStack {
	tb.Helper()
	server, sqlTool := temporalServerBins(tb)
	pg := findPostgres(tb)
	dir := filepath.Join(tb.TempDir(), "temporal-server")
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		tb.Fatal(err)
	}
	srv := &serverStack{dir: dir, log: filepath.Join(dir, "server.log"), out: filepath.Join(dir, "server.out"), pg: pg}
	// Dropped last, after the server stopped (cleanups run in reverse).
	tb.Cleanup(func() { srv.dropDatabases(tb) })

	name := "breach_e2e_" + randomHex(tb)[:12]
	main, visibility := name, name+"_visibility"
	began := time.Now()
	srv.setupSchema(tb, sqlTool, main, "postgresql/v12/temporal")
	srv.setupSchema(tb, sqlTool, visibility, "postgresql/v12/visibility")
	tb.Logf("Temporal schema set up in databases %s and %s on %s in %s", main, visibility, pg, time.Since(began).Round(time.Millisecond))

	ports := serverPorts(tb, "frontend", "frontendHTTP", "frontendMembership", "history", "historyMembership",
		"matching", "matchingMembership", "worker", "workerMembership")
	srv.addr = net.JoinHostPort("127.0.0.1", ports["frontend"])
	writeFile(tb, filepath.Join(dir, "config", "development.yaml"), serverConfigYAML(srv, main, visibility, ports))

	out, err := os.Create(srv.out)
	if err != nil {
		tb.Fatal(err)
	}
	began = time.Now()
	srv.cmd = exec.Command(server, "--root", dir, "--config", "config", "--env", "development", "--allow-no-auth", "start")
	srv.cmd.Dir = dir
	srv.cmd.Stdout, srv.cmd.Stderr = out, out
	for _, kv := range os.Environ() {
		// The server reads TEMPORAL_ROOT, TEMPORAL_ENVIRONMENT and the like: only the flags count.
		if !strings.HasPrefix(kv, "TEMPORAL_") {
			srv.cmd.Env = append(srv.cmd.Env, kv)
		}
	}
	if err := srv.cmd.Start(); err != nil {
		out.Close()
		tb.Fatalf("start the Temporal server %s: %v", server, err)
	}
	srv.done = make(chan struct{})
	go func() {
		_ = srv.cmd.Wait()
		out.Close()
		close(srv.done)
	}()
	tb.Cleanup(func() {
		srv.stop(tb)
		if tb.Failed() {
			tb.Logf("%s (tail):\n%s", srv.out, tail(srv.out, 10))
			tb.Logf("%s (tail, without stack traces):\n%s", srv.log, serverLogTail(srv.log, 10))
		}
	})
	srv.waitServing(tb)
	tb.Logf("Temporal server %s serving at %s, namespace default registered, in %s", temporalServerVersion, srv.addr, time.Since(began).Round(time.Millisecond))
	return srv
}

// serverPorts picks a free local port for each name, below 32768: the server records its
// services' ports in a SMALLINT column (cluster_membership.rpc_port), and the ports the kernel
// hands out for port 0 are above it.
func serverPorts(tb testing.TB, names ...string) map[string]string {
	tb.Helper()
	ports := map[string]string{}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, name := range names {
		for try := 0; ; try++ {
			if try == 200 {
				tb.Fatalf("no free local port between 10000 and 32767 for the Temporal server's %s after 200 tries", name)
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+mrand.IntN(32768-10000))))
			if err != nil {
				continue
			}
			held = append(held, l)
			_, ports[name], _ = net.SplitHostPort(l.Addr().String())
			break
		}
	}
	return ports
}

// setupSchema runs the SQL tool as Temporal's own set-up does: create the database, set up
// the versioning tables, then apply every versioned schema of the embedded set named.
func (srv *serverStack) setupSchema(tb testing.TB, sqlTool, db, schema string) {
	tb.Helper()
	srv.dbs = append(srv.dbs, db)
	steps := [][]string{
		{"create-database", "--defaultdb", srv.pg.adminDB},
		{"setup-schema", "--version", "0.0"},
		{"update-schema", "--schema-name", schema},
	}
	logPath := filepath.Join(srv.dir, "sql-tool.log")
	for _, step := range steps {
		args := append([]string{"--endpoint", srv.pg.host, "--port", strconv.Itoa(srv.pg.port), "--user", srv.pg.user,
			"--plugin", "postgres12", "--database", db}, step...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, sqlTool, args...)
		cmd.Env = append(os.Environ(), "SQL_PASSWORD="+srv.pg.password)
		out, err := cmd.CombinedOutput()
		cancel()
		if f, ferr := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); ferr == nil {
			fmt.Fprintf(f, "$ temporal-sql-tool %s\n%s\n", strings.Join(args, " "), out)
			f.Close()
		}
		if err != nil {
			tb.Fatalf("Temporal's SQL tool %s on database %s at %s: %v (whole output in %s)\n%s",
				step[0], db, srv.pg, err, logPath, lastLines(string(out), 15))
		}
	}
}

// serverConfigYAML is the server's static configuration, after the module's
// config/development-postgres12.yaml: one cluster, every service in one process on local
// ports, the dynamic configuration production uses (deploy/temporal-dynamic-config.yaml).
func serverConfigYAML(srv *serverStack, main, visibility string, ports map[string]string) string {
	pg := net.JoinHostPort(srv.pg.host, strconv.Itoa(srv.pg.port))
	store := func(db string, conns int) string {
		return fmt.Sprintf(`      sql:
        pluginName: postgres12
        databaseName: %s
        connectAddr: "%s"
        connectProtocol: tcp
        user: %q
        password: %q
        maxConns: %d
        maxIdleConns: %d
        maxConnLifetime: 1h
`, db, pg, srv.pg.user, srv.pg.password, conns, conns)
	}
	service := func(name string) string {
		return fmt.Sprintf("  %s:\n    rpc:\n      grpcPort: %s\n      membershipPort: %s\n      bindOnLocalHost: true\n",
			name, ports[name], ports[name+"Membership"])
	}
	return `# Written by the e2e tests (startServer), after config/development-postgres12.yaml of the
# go.temporal.io/server module.
log:
  level: error
  outputFile: "` + srv.log + `"
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
` + store(main, 20) + `    visibility:
` + store(visibility, 10) + `global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
` + service("frontend") + "      httpPort: " + ports["frontendHTTP"] + "\n" +
		service("history") + service("matching") + service("worker") + `clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "` + srv.addr + `"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "` + filepath.Join(moduleRoot, "deploy", "temporal-dynamic-config.yaml") + `"
  pollInterval: 10s
`
}

// waitServing waits until the frontend answers, registers the default namespace (a real server,
// unlike the dev server, does not create it) and waits until workflows can be listed in it.
func (srv *serverStack) waitServing(tb testing.TB) {
	tb.Helper()
	opts := client.Options{HostPort: srv.addr, Namespace: "default", Logger: quietLogger{}}
	ns, err := client.NewNamespaceClient(opts)
	if err != nil {
		tb.Fatalf("namespace client for %s: %v", srv.addr, err)
	}
	defer ns.Close()
	c, err := client.NewLazyClient(opts)
	if err != nil {
		tb.Fatalf("client for %s: %v", srv.addr, err)
	}
	defer c.Close()
	registered := false
	waitFor(tb, 2*time.Minute, "the Temporal server at "+srv.addr+" to serve the default namespace", func() (bool, string) {
		if srv.exited() {
			tb.Fatalf("the Temporal server exited while starting: %v\n%s (tail):\n%s\n%s (tail, without stack traces):\n%s",
				srv.cmd.ProcessState, srv.out, tail(srv.out, 10), srv.log, serverLogTail(srv.log, 10))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return false, "health check: " + err.Error()
		}
		if !registered {
			_, err := ns.Describe(ctx, "default")
			var notFound *serviceerror.NamespaceNotFound
			switch {
			case errors.As(err, &notFound):
				err = ns.Register(ctx, &workflowservice.RegisterNamespaceRequest{
					Namespace:                        "default",
					Description:                      "Registered by the breach e2e tests, as temporalio/auto-setup does.",
					WorkflowExecutionRetentionPeriod: durationpb.New(defaultNamespaceRetention),
				})
				var exists *serviceerror.NamespaceAlreadyExists
				if err != nil && !errors.As(err, &exists) {
					return false, "register the default namespace: " + err.Error()
				}
			case err != nil:
				return false, "describe the default namespace: " + err.Error()
			}
			registered = true
		}
		if _, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", PageSize: 1}); err != nil {
			return false, "list workflows in the default namespace: " + err.Error()
		}
		return true, ""
	})
}

func (srv *serverStack) exited() bool {
	select {
	case <-srv.done:
		return true
	default:
		return false
	}
}

// stop interrupts the server, which shuts its services down in order, and kills it if that
// takes too long.
func (srv *serverStack) stop(tb testing.TB) {
	tb.Helper()
	if srv.exited() {
		return
	}
	_ = srv.cmd.Process.Signal(os.Interrupt)
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		tb.Logf("the Temporal server did not stop within 30s of SIGINT: killed")
		_ = srv.cmd.Process.Kill()
		<-srv.done
	}
}

// dropDatabases drops the server's databases, closing whatever connections remain.
func (srv *serverStack) dropDatabases(tb testing.TB) {
	tb.Helper()
	if len(srv.dbs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, srv.pg.dsn(srv.pg.adminDB))
	if err != nil {
		tb.Errorf("drop the test's databases %s on %s: %v; drop them by hand", strings.Join(srv.dbs, ", "), srv.pg, err)
		return
	}
	defer conn.Close(ctx)
	for _, db := range srv.dbs {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s on %s: %v; drop it by hand", db, srv.pg, err)
		}
	}
}

// serverLogTail is the end of the server's JSON log, each entry as level, message and error:
// the stack traces the server logs with every error would bury them.
func serverLogTail(path string, n int) string {
	lines := strings.Split(tail(path, n), "\n")
	for i, l := range lines {
		var e struct{ Level, Msg, Error string }
		if json.Unmarshal([]byte(l), &e) == nil && e.Msg != "" {
			lines[i] = e.Level + ": " + e.Msg
			if e.Error != "" {
				lines[i] += ": " + e.Error
			}
		}
	}
	return strings.Join(lines, "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
