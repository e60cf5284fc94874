package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/keys"
)

// badConfig is a complete configuration but for one sector the rules do not know, on line 5.
const badConfig = `organisation:
  name: Shop GmbH
  timezone: Europe/Berlin
  establishments: [DE]
  sectors: [retail]
roles:
  dpo: [dana]
  commander: [ian]
routes:
  - obligation: gdpr-art33-authority
    method: email
    address: dpa@authority.example
`

// Every command that reads the configuration refuses one that cannot work with exit code 2 and
// the file and line, before it dials, starts a server or reads its input.
func TestBadConfigurationExitsTwoBeforeAnythingStarts(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "breach.yaml")
	writeTestFile(t, bad, badConfig)
	good := filepath.Join(dir, "good.yaml")
	writeTestFile(t, good, strings.Replace(badConfig, "[retail]", "[nis2-important]", 1))
	facts := filepath.Join(dir, "facts.json")
	writeTestFile(t, facts, `{"aware_at": "2026-06-10T10:00:00+02:00", "establishments": ["DE"]}`)

	// Should a command go past the configuration, nothing answers and no server can start.
	t.Setenv("TEMPORAL_ADDRESS", unusedAddress(t))
	t.Setenv("BREACH_TEMPORAL_BIN", filepath.Join(dir, "no-temporal-here"))
	t.Setenv("BREACH_HOME", filepath.Join(dir, "home"))
	t.Setenv("BREACH_CONFIG", "")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_SIGNING_SECRET", "secret")

	commands := [][]string{
		{"declare", "--title", "Backup exposed", "--system", "10.0.0.1"},
		{"worker"},
		{"dev"},
		{"demo"},
		{"serve", "--addr", unusedAddress(t)},
		{"web", "--addr", unusedAddress(t)},
		{"codec-server"},
		{"obligations", "--facts", facts},
	}
	for _, args := range commands {
		t.Run(args[0], func(t *testing.T) {
			err := execute(t, append([]string{"--config", bad}, args...))
			if err == nil {
				t.Fatal("a configuration naming sector retail was accepted")
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit code %d, want 2: %v", code, err)
			}
			for _, want := range []string{bad + ":5: organisation.sectors[0]: unknown sector \"retail\"", "nis2-essential"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q does not say %q", err, want)
				}
			}
		})
	}
	t.Run("the same file with a known sector", func(t *testing.T) {
		if err := execute(t, []string{"--config", good, "obligations", "--facts", facts}); err != nil {
			t.Fatalf("obligations with a good configuration: %v", err)
		}
	})
}

func execute(t *testing.T, args []string) error {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(args)
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	return root.ExecuteContext(context.Background())
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// unusedAddress is a loopback address nothing listens on.
func unusedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// breach serve acts only for the Slack workspaces and the app the configuration names: without
// them it refuses to start, with exit code 2 and what to add, before it dials Temporal or
// listens.
func TestServeNeedsTheWorkspaceAndTheApp(t *testing.T) {
	dir := t.TempDir()
	good := strings.Replace(badConfig, "[retail]", "[nis2-important]", 1)
	t.Setenv("TEMPORAL_ADDRESS", unusedAddress(t))
	t.Setenv("BREACH_TEMPORAL_BIN", filepath.Join(dir, "no-temporal-here"))
	t.Setenv("BREACH_HOME", filepath.Join(dir, "home"))
	t.Setenv("BREACH_CONFIG", "")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_SIGNING_SECRET", "secret")
	tests := []struct {
		name, slack string
		want        []string
	}{
		{"no slack section", "", []string{"names no Slack workspace", "slack.team_ids", "team_ids: [T…]", "app_id: A…"}},
		{"no team", "slack:\n  app_id: A0BREACH1\n", []string{"names no Slack workspace"}},
		{"no app", "slack:\n  team_ids: [T0BREACH1]\n", []string{"names no Slack app", "Basic Information → App ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "breach.yaml")
			writeTestFile(t, path, good+tt.slack)
			err := execute(t, []string{"--config", path, "serve", "--addr", unusedAddress(t)})
			if err == nil {
				t.Fatal("serve started without knowing whom it serves")
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit code %d, want 2: %v", code, err)
			}
			for _, want := range append(tt.want, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q does not say %q", err, want)
				}
			}
		})
	}
}

// An incident whose roles name a person of the board's provider carries the board's public key,
// which vouches for them; without one the declaration is refused, saying how to make it.
func TestSigningKeysOfTheBoard(t *testing.T) {
	home := t.TempDir()
	actor := "oidc:https://login.example.com#248289761001"
	cfg := &config.Config{Home: home, Signing: config.Signing{TrustLocalKeys: true}}
	roles := incident.Roles{DPO: []string{actor}}
	_, err := signingKeys(cfg, roles)
	if err == nil || !strings.Contains(err.Error(), "breach keys init --web") || !strings.Contains(err.Error(), "signing.web") {
		t.Fatalf("an oidc: actor without the board's key: got %v, want a refusal saying how to make the key", err)
	}
	if err := execute(t, []string{"keys", "init", "--web", "--as", "dana"}); err == nil || exitCode(err) != 2 {
		t.Fatalf("keys init --web --as: got %v, want a usage error", err)
	}
	t.Setenv("BREACH_HOME", home)
	t.Setenv("BREACH_CONFIG", "")
	if err := execute(t, []string{"keys", "init", "--web"}); err != nil {
		t.Fatal(err)
	}
	k, err := signingKeys(cfg, roles)
	if err != nil {
		t.Fatal(err)
	}
	local, err := keys.Local(home)
	if err != nil || k.Web == "" || k.Web != local[incident.WebDashboard] {
		t.Fatalf("the declaration's board key is %q, want the one kept locally %q (%v)", k.Web, local[incident.WebDashboard], err)
	}
	cfg.Signing = config.Signing{Web: "ed25519:configured"}
	if k, err := signingKeys(cfg, roles); err != nil || k.Web != "ed25519:configured" {
		t.Fatalf("signing.web: got %q, %v", k.Web, err)
	}
}

// The board shows nothing without sign-in: breach web refuses to start without it, and serves
// it without sign-in only read-only on a loopback address; so does breach dev.
func TestBoardNeedsSignInOrLoopback(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TEMPORAL_ADDRESS", unusedAddress(t))
	t.Setenv("BREACH_TEMPORAL_BIN", filepath.Join(dir, "no-temporal-here"))
	t.Setenv("BREACH_HOME", filepath.Join(dir, "home"))
	t.Setenv("BREACH_CONFIG", "")
	good := filepath.Join(dir, "breach.yaml")
	writeTestFile(t, good, strings.Replace(badConfig, "[retail]", "[nis2-important]", 1))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"web", "--addr", unusedAddress(t)}, "the board shows nothing without sign-in"},
		{[]string{"web", "--local", "--addr", "0.0.0.0:8090"}, "only on a loopback address"},
		{[]string{"dev", "--board", "0.0.0.0:8235"}, "only on a loopback address"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := execute(t, append([]string{"--config", good}, tc.args...))
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (exit %d), want a usage error saying %q", err, exitCode(err), tc.want)
			}
		})
	}
}
