//go:build unix

package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/breachops/breach/internal/config"
)

// Bad input on the command line is a clear message and exit code 2, before anything is dialled,
// started or read into memory: files that are not regular files (a directory, a device, a named
// pipe, a socket, a symbolic link to one), files over their limit, ids that are not incident IDs.
func TestBadInputExitsTwoBeforeAnythingStarts(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "subjects.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "subjects.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	linkToFIFO := filepath.Join(dir, "link.csv")
	if err := os.Symlink(fifo, linkToFIFO); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.json")
	writeTestFile(t, huge, `{"aware_at": "2026-06-10T10:00:00+02:00"}`)
	if err := os.Truncate(huge, 4<<30); err != nil { // sparse: 4 GiB that take no space
		t.Fatal(err)
	}
	hugeYAML := filepath.Join(dir, "huge.yaml")
	writeTestFile(t, hugeYAML, "organisation:\n  name: x\n")
	if err := os.Truncate(hugeYAML, 2<<20); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "subjects.csv")
	writeTestFile(t, good, "id,email,country\nS1,a@example.com,DE\n")

	// Should a command go past its checks, nothing answers and no server can start.
	t.Setenv("TEMPORAL_ADDRESS", unusedAddress(t))
	t.Setenv("BREACH_TEMPORAL_BIN", filepath.Join(dir, "no-temporal-here"))
	t.Setenv("BREACH_HOME", filepath.Join(dir, "home"))
	t.Setenv("BREACH_CONFIG", "")

	declare := []string{"declare", "--title", "Backup exposed", "--system", "10.0.0.1", "--subjects"}
	tests := []struct {
		name string
		args []string
		says []string
	}{
		{"declare: a directory", append(declare, dir), []string{dir + " is a directory, not a regular file"}},
		{"declare: a device", append(declare, "/dev/zero"), []string{"/dev/zero is a character device"}},
		{"declare: a named pipe", append(declare, fifo), []string{"is a named pipe (FIFO)"}},
		{"declare: a link to a named pipe", append(declare, linkToFIFO), []string{"is a named pipe (FIFO)"}},
		{"declare: a socket", append(declare, sock), []string{"is a socket"}},
		{"subjects: a device", []string{"subjects", "INC-20261128-7F3A", "--subjects", "/dev/zero", "--as", "ian"}, []string{"/dev/zero is a character device"}},
		{"amend: a named pipe", []string{"amend", "INC-20261128-7F3A", "--subjects", fifo, "--as", "dana"}, []string{"is a named pipe"}},
		{"obligations: a device", []string{"obligations", "--facts", "/dev/zero"}, []string{"--facts: /dev/zero is a character device"}},
		{"obligations: a named pipe", []string{"obligations", "--facts", fifo}, []string{"is a named pipe"}},
		{"obligations: a directory", []string{"obligations", "--facts", dir}, []string{"is a directory"}},
		{"obligations: over the cap", []string{"obligations", "--facts", huge}, []string{"larger than 1 MiB"}},
		{"configuration: a device", []string{"--config", "/dev/zero", "declare", "--title", "t", "--system", "10.0.0.1"}, []string{"/dev/zero is a character device"}},
		{"configuration: over the cap", []string{"--config", hugeYAML, "worker"}, []string{"larger than 1 MiB"}},
		{"drill: scenario a device", []string{"drill", "run", "--scenario", "/dev/zero"}, []string{"/dev/zero is a character device"}},
		{"status: a path for an ID", []string{"status", "../../x"}, []string{`"../../x" is not an incident ID`}},
		{"drill report: a path for an ID", []string{"drill", "report", "../../x"}, []string{`"../../x" is not an incident ID`}},
		{"decide: a path for an ID", []string{"decide", "../../x", "--risk", "high", "--reasoning", "r", "--as", "dana"}, []string{"not an incident ID"}},
		{"delay: neither a request nor a lift", []string{"delay", "INC-20261128-7F3A", "--agency", "FBI", "--by", "J. Roe", "--as", "dana"}, []string{"--law-enforcement", "--lift"}},
		{"delay: no official", []string{"delay", "INC-20261128-7F3A", "--law-enforcement", "--agency", "FBI", "--as", "dana"}, []string{"--by (the official who asked)"}},
		{"delay: a lift with a period", []string{"delay", "INC-20261128-7F3A", "--lift", "--until", "2027-01-01T00:00:00Z", "--as", "dana"}, []string{"--lift takes only --note"}},
		{"delay: an until without an offset", []string{"delay", "INC-20261128-7F3A", "--law-enforcement", "--agency", "FBI", "--by", "J. Roe", "--until", "2027-01-01T00:00:00", "--as", "dana"}, []string{"not an RFC 3339 time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := execute(t, tt.args)
			if err == nil {
				t.Fatal("accepted")
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit code %d, want 2: %v", code, err)
			}
			for _, want := range tt.says {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "Temporal") {
				t.Errorf("the command went on to Temporal: %v", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "home")); !os.IsNotExist(err) {
		t.Errorf("BREACH_HOME was created (%v): something started", err)
	}
}

func TestSubjectLimitsFromTheEnvironment(t *testing.T) {
	tests := []struct {
		record, field string
		want          string // "" when accepted
	}{
		{"", "", ""},
		{"128KiB", "32KiB", ""},
		{"1MiB", "", ""},
		{"65536", "1024", ""},
		{"lots", "", "BREACH_SUBJECTS_MAX_RECORD"},
		{"-1", "", "not a positive size"},
		{"1KiB", "2KiB", "above the record limit"},
		{"128MiB", "", "at most"},
	}
	for _, tt := range tests {
		t.Setenv("BREACH_SUBJECTS_MAX_RECORD", tt.record)
		t.Setenv("BREACH_SUBJECTS_MAX_FIELD", tt.field)
		_, err := subjectLimits()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q/%q: %v", tt.record, tt.field, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != 2 {
			t.Errorf("%q/%q: %v, want exit 2 saying %q", tt.record, tt.field, err, tt.want)
		}
	}
}

func TestAPIURLsThatWouldLeakTheTokenAreRefused(t *testing.T) {
	tests := []struct {
		v    string
		want string // "" when accepted
	}{
		{"", ""},
		{"https://slack.com/api/", ""},
		{"http://127.0.0.1:9000/api/", ""},
		{"http://slack.example.com/api/", "in clear"},
		{"https://slack.example.com/api/?token=xoxb-s3cr3t", "no user, password or query"},
		{"https://bot:xoxb-s3cr3t@slack.example.com/api/", "no user, password or query"},
		{"slack.example.com/api?token=xoxb-s3cr3t", "not an http(s) URL"},
	}
	for _, tt := range tests {
		err := checkAPIURL("SLACK_API_URL", tt.v)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.v, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != 2 {
			t.Errorf("%s: %v, want exit 2 saying %q", tt.v, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error %q quotes the token", tt.v, err)
		}
	}
}

func TestPseudonymKeyFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		key, dsn string
		want     string // "" when accepted
	}{
		{"the local default", "", "", ""},
		{"a key", strings.Repeat("ab", 32), "", ""},
		{"a key too short", "abcd", "", "at least 32"},
		{"a shared ledger with a key", strings.Repeat("ab", 32), "postgres://breach@db.example/ledger", ""},
		{"a shared ledger without one", "", "postgres://breach:s3cr3t@db.example/ledger", "same pseudonym key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			t.Setenv("BREACH_PSEUDONYM_KEY", tt.key)
			t.Setenv("BREACH_PSEUDONYM_KEY_FILE", "")
			t.Setenv("BREACH_LEDGER_DSN", tt.dsn)
			k, err := pseudonymKey(&config.Config{Home: home})
			if tt.want == "" {
				if err != nil || k == nil {
					t.Fatalf("pseudonymKey: %v", err)
				}
				if tt.key == "" {
					if _, err := os.Stat(filepath.Join(home, "pseudonym.key")); err != nil {
						t.Errorf("the local key was not made in BREACH_HOME: %v", err)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != 2 {
				t.Fatalf("pseudonymKey: %v, want exit 2 saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error quotes the DSN's password: %v", err)
			}
		})
	}
}
