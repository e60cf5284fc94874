package keys

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/breachops/breach/incident"
)

func TestCreateLoadLocal(t *testing.T) {
	home := t.TempDir()
	k, created, err := Create(home, "cli:dana")
	if err != nil || !created {
		t.Fatalf("create: %v %t", err, created)
	}
	again, created, err := Create(home, "cli:dana")
	if err != nil || created || !again.Equal(k) {
		t.Fatalf("a second create must keep the key: %v %t", err, created)
	}
	path, _ := File(home, "cli:dana")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, mode %o", path, err, st.Mode().Perm())
	}
	if _, _, err := Create(home, incident.SlackIngress); err != nil {
		t.Fatal(err)
	}
	local, err := Local(home)
	if err != nil {
		t.Fatal(err)
	}
	if local["cli:dana"] != incident.EncodePublicKey(k.Public().(ed25519.PublicKey)) || local[incident.SlackIngress] == "" {
		t.Fatalf("local keys %v", local)
	}
	if _, err := LoadSigner(home, "cli:olga"); err == nil || !strings.Contains(err.Error(), "breach keys init --as olga") {
		t.Fatalf("a missing key must say how to make one: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key readable by others must be refused: %v", err)
	}
	if _, err := File(home, "slack:T01/U02"); err == nil {
		t.Fatal("a Slack user has no key of their own")
	}
	if _, err := File(home, "oidc:https://id.example.com#1"); err == nil {
		t.Fatal("a person signed in through OpenID Connect has no key of their own")
	}
	if _, err := LoadSigner(home, incident.WebDashboard); err == nil || !strings.Contains(err.Error(), "breach keys init --web") || !strings.Contains(err.Error(), "signing.web") {
		t.Fatalf("a missing dashboard key must say how to make one and where it goes: %v", err)
	}
	if _, _, err := Create(home, incident.WebDashboard); err != nil {
		t.Fatal(err)
	}
	if local, err := Local(home); err != nil || local[incident.WebDashboard] == "" {
		t.Fatalf("the dashboard's public key is not kept beside its key: %v %v", local, err)
	}
	if _, err := File(home, "cli:../x"); err == nil {
		t.Fatal("a bad actor name became a path")
	}
	if filepath.Dir(path) != Dir(home) {
		t.Fatalf("key outside %s: %s", Dir(home), path)
	}
}

// Processes sharing a BREACH_HOME (two workers, a worker and the Slack ingress) may make the same
// key at the same moment: each gets the one key that was written whole, none a half-written file.
func TestCreateConcurrently(t *testing.T) {
	for round := 0; round < 20; round++ {
		home := t.TempDir()
		const n = 8
		got := make([]ed25519.PrivateKey, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _, errs[i] = Create(home, incident.DrillAutopilot)
			}()
		}
		wg.Wait()
		for i := 0; i < n; i++ {
			if errs[i] != nil {
				t.Fatalf("round %d: create %d of %d at once: %v", round, i+1, n, errs[i])
			}
			if !got[i].Equal(got[0]) {
				t.Fatalf("round %d: creates at once returned different keys", round)
			}
		}
		local, err := Local(home)
		if err != nil {
			t.Fatal(err)
		}
		if local[incident.DrillAutopilot] != incident.EncodePublicKey(got[0].Public().(ed25519.PublicKey)) {
			t.Fatalf("round %d: the public key beside the private key is not its own", round)
		}
		entries, err := os.ReadDir(Dir(home))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("round %d: want the key and its public key in %s, got %v", round, Dir(home), names)
		}
	}
}
