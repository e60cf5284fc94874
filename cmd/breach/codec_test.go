package main

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/codec"
	"github.com/breachops/breach/internal/keys"
)

// codecEnv sets the environment of one key-configuration case; nothing answers at the
// Temporal address, so a command that went past its checks would fail otherwise.
func codecEnv(t *testing.T, temporalAddress, payloadKeys, keysFile string) (home string) {
	t.Helper()
	dir := t.TempDir()
	home = filepath.Join(dir, "home")
	cfg := filepath.Join(dir, "breach.yaml")
	// Otherwise complete: the people's keys and the Slack workspace are there, so that only the
	// payload keys are missing.
	writeTestFile(t, cfg, strings.Replace(badConfig, "[retail]", "[nis2-important]", 1)+
		"signing:\n  trust_local_keys: true\nslack:\n  team_ids: [T0BREACH1]\n  app_id: A0BREACH1\n")
	t.Setenv("TEMPORAL_ADDRESS", temporalAddress)
	t.Setenv("BREACH_HOME", home)
	t.Setenv("BREACH_CONFIG", cfg)
	t.Setenv("BREACH_TEMPORAL_BIN", filepath.Join(home, "no-temporal-here"))
	t.Setenv(codec.EnvKeys, payloadKeys)
	t.Setenv(codec.EnvKeysFile, keysFile)
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_SIGNING_SECRET", "secret")
	for _, who := range []string{"cli:dana", "cli:ian", incident.SlackIngress} {
		if _, _, err := keys.Create(home, who); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// For a Temporal server on another machine breach makes no key of its own: every command that
// talks to Temporal exits 2 and says what to set, before it dials.
func TestRemoteTemporalNeedsConfiguredKeys(t *testing.T) {
	commands := [][]string{
		{"declare", "--title", "Backup exposed", "--system", "10.0.0.1"},
		{"worker"},
		{"status"},
		{"decide", "INC-20261128-7F3A", "--risk", "high", "--reasoning", "r", "--as", "dana"},
		{"drill", "schedules"},
		{"serve", "--addr", ""},
	}
	for _, args := range commands {
		t.Run(args[0], func(t *testing.T) {
			home := codecEnv(t, "temporal.example.invalid:7233", "", "")
			err := execute(t, args)
			if err == nil {
				t.Fatal("the command ran without payload keys for a remote Temporal")
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit code %d, want 2: %v", code, err)
			}
			for _, want := range []string{"temporal.example.invalid:7233 is not on this machine", codec.EnvKeys, codec.EnvKeysFile, codec.HowToMakeKey} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q does not say %q", err, want)
				}
			}
			if _, err := os.Stat(codec.LocalKeyPath(home)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a key file was made for a remote Temporal: %v", err)
			}
		})
	}
}

func TestKeyConfigurationErrorsExitTwo(t *testing.T) {
	good := "k1=" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	writeTestFile(t, file, good+"\n")
	for _, tc := range []struct {
		name, keys, keysFile, want string
	}{
		{"both variables", good, file, "set one of them"},
		{"a short key", "k1=" + base64.StdEncoding.EncodeToString(make([]byte, 16)), "", "decodes to 16 bytes"},
		{"a missing file", "", filepath.Join(dir, "nope"), codec.EnvKeysFile + "=" + filepath.Join(dir, "nope")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			codecEnv(t, unusedAddress(t), tc.keys, tc.keysFile)
			err := execute(t, []string{"status"})
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("breach status: %v (exit %d); want exit 2 saying %q", err, exitCode(err), tc.want)
			}
		})
	}
}

func TestCodecServerRefusesUnsafeOrBadSettings(t *testing.T) {
	good := "k1=" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		name  string
		keys  string
		token string
		args  []string
		want  string
	}{
		{"reachable from other machines without a token", good, "", []string{"--listen", "0.0.0.0:0"}, "answers other machines"},
		{"a token variable that is empty", good, "", []string{"--auth-token-env", "E2E_EMPTY_TOKEN"}, "$E2E_EMPTY_TOKEN is empty"},
		{"a short token", good, "short", []string{"--auth-token-env", "E2E_CODEC_TOKEN"}, "at least 16"},
		{"an origin with a path", good, "", []string{"--cors-origin", "http://127.0.0.1:8233/namespaces"}, "is not an origin"},
		{"an origin without a scheme", good, "", []string{"--cors-origin", "127.0.0.1:8233"}, "is not an origin"},
		{"a listen address without a port", good, "", []string{"--listen", "127.0.0.1"}, "--listen"},
		{"no key anywhere (it never makes one)", "", "", nil, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := codecEnv(t, unusedAddress(t), tc.keys, "")
			t.Setenv("E2E_EMPTY_TOKEN", "")
			t.Setenv("E2E_CODEC_TOKEN", tc.token)
			err := execute(t, append([]string{"codec-server"}, tc.args...))
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("breach codec-server %s: %v (exit %d); want exit 2 saying %q", strings.Join(tc.args, " "), err, exitCode(err), tc.want)
			}
			if _, err := os.Stat(codec.LocalKeyPath(home)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("codec-server made a key file: %v", err)
			}
		})
	}
}
