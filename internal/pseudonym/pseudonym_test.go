package pseudonym

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const incidentID = "INC-20261128-7F3A"

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestKeyedPseudonymsCannotBeRecomputedWithoutTheKey(t *testing.T) {
	k, err := NewKey([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	derive, err := k.For(k.Scheme())
	if err != nil {
		t.Fatal(err)
	}
	addr := "lea.weber@example.net"
	got := derive(incidentID, addr)
	unkeyed := sha256.Sum256([]byte(incidentID + "\x00" + addr))
	if got == hex.EncodeToString(unkeyed[:16]) {
		t.Fatal("the pseudonym is the unkeyed SHA-256: anyone can confirm a known address")
	}
	if len(got) != 32 {
		t.Errorf("pseudonym %q: want 32 hex digits (the ledger stores 16 bytes)", got)
	}
	if derive(incidentID, addr) != got {
		t.Error("not stable")
	}
	if derive("INC-20261128-7F3B", addr) == got {
		t.Error("the same pseudonym in two incidents")
	}
	other, _ := NewKey([]byte(strings.Repeat("o", 32)))
	if d, _ := other.For(other.Scheme()); d(incidentID, addr) == got {
		t.Error("two keys give the same pseudonym")
	}
	if k.ID() == other.ID() || strings.Contains(string(k.Scheme()), "kkkk") || strings.Contains(k.String(), "kkkk") {
		t.Errorf("ids %s and %s; scheme %s", k.ID(), other.ID(), k.Scheme())
	}

	// The legacy scheme is what pseudonyms were: incidents that began under it keep it.
	leg, err := k.For(Legacy)
	if err != nil || leg(incidentID, addr) != hex.EncodeToString(unkeyed[:16]) {
		t.Errorf("legacy: %v", err)
	}
	if _, err := other.For(k.Scheme()); !errors.Is(err, ErrOtherKey) || !strings.Contains(err.Error(), k.ID()) {
		t.Errorf("another key's scheme: %v, want ErrOtherKey naming the key", err)
	}
	var none *Key
	if _, err := none.For(k.Scheme()); !errors.Is(err, ErrOtherKey) {
		t.Errorf("no key: %v", err)
	}
	if _, err := k.For("md5"); err == nil {
		t.Error("an unknown scheme was accepted")
	}
	if _, err := NewKey(make([]byte, 31)); err == nil {
		t.Error("a 31-byte key was accepted")
	}
}

func TestLoad(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	want, _ := NewKey(secret)
	dir := t.TempDir()
	hexFile := filepath.Join(dir, "hex.key")
	if err := os.WriteFile(hexFile, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rawFile := filepath.Join(dir, "raw.key")
	if err := os.WriteFile(rawFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		home string
		err  string
	}{
		{"hex in the environment", map[string]string{EnvKey: hex.EncodeToString(secret)}, "", ""},
		{"base64 in the environment", map[string]string{EnvKey: base64.StdEncoding.EncodeToString(secret)}, "", ""},
		{"the environment wins over a file", map[string]string{EnvKey: hex.EncodeToString(secret), EnvKeyFile: "/nonexistent"}, "", ""},
		{"a hex file", map[string]string{EnvKeyFile: hexFile}, "", ""},
		{"a raw file", map[string]string{EnvKeyFile: rawFile}, "", ""},
		{"too short", map[string]string{EnvKey: "abcd"}, "", "at least 32"},
		{"not a key", map[string]string{EnvKey: "correct horse battery staple!!"}, "", "not hex or base64"},
		{"a missing file", map[string]string{EnvKeyFile: filepath.Join(dir, "missing")}, "", "no such file"},
		{"a device", map[string]string{EnvKeyFile: "/dev/zero"}, "", "character device"},
		{"nothing at all", nil, "", "no pseudonym key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Load(env(tt.env), tt.home)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Load: %v, want an error saying %q", err, tt.err)
				}
				if strings.Contains(err.Error(), hex.EncodeToString(secret)) {
					t.Errorf("the error quotes the key")
				}
				return
			}
			if err != nil || k.ID() != want.ID() {
				t.Fatalf("Load: %v, %v", k, err)
			}
		})
	}
}

// Without configuration, the key is made under BREACH_HOME on first use, readable by its owner
// only, and the same key is found there afterwards.
func TestLoadCreatesTheLocalKeyOnce(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	k1, err := Load(env(nil), home)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(home, LocalFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := Load(env(nil), home)
	if err != nil || k2.ID() != k1.ID() {
		t.Fatalf("second load: %v, %v; want the same key", k2, err)
	}
	other, err := Load(env(nil), filepath.Join(t.TempDir(), "home"))
	if err != nil || other.ID() == k1.ID() {
		t.Fatalf("another installation: %v, %v; want another key", other, err)
	}
}
