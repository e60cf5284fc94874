// Package pseudonym derives the keys that stand for a data subject wherever the person must not
// be named: the notification ledger's per-subject outcomes, the outbox's file names, the list of
// people who may have been notified twice.
//
// A pseudonym is HMAC-SHA256 under the installation's key of the incident ID and the subject's
// normalised address (or id), cut to 128 bits. Without the key, a known address cannot be
// confirmed against a ledger. Before keys, pseudonyms were a plain SHA-256 of the same input
// (scheme "sha256"): anyone holding a ledger could test an address.
//
// The ledger relies on pseudonyms being stable: a later alerts run of an incident looks each
// person up to skip those already notified. So the key must not change for an installation, and
// every worker must hold the same one. Each incident records the scheme its notices started
// with (Scheme: "sha256", or "hmac-sha256:" and the key's id); a running incident keeps it, so an
// incident whose notices began before keys goes on with plain SHA-256, and one begun under a key
// refuses to go on under another.
//
// Where the key comes from (Load): BREACH_PSEUDONYM_KEY (at least 32 bytes, hex or base64), or
// the file named by BREACH_PSEUDONYM_KEY_FILE (the same, or 32 raw bytes), in production; else
// BREACH_HOME/pseudonym.key, created with 32 random bytes and mode 0600 on first use, which suits
// one machine only.
package pseudonym

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/breachops/breach/internal/infile"
)

// Environment variables and the local default file.
const (
	EnvKey     = "BREACH_PSEUDONYM_KEY"
	EnvKeyFile = "BREACH_PSEUDONYM_KEY_FILE"
	// LocalFile is the key's file under BREACH_HOME when neither variable is set.
	LocalFile = "pseudonym.key"
	// MinKeyBytes is the shortest key accepted: 256 bits.
	MinKeyBytes = 32
)

// Scheme says how the pseudonyms of an incident are derived.
type Scheme string

// Legacy is the scheme of pseudonyms written before keys: SHA-256, unkeyed.
const Legacy Scheme = "sha256"

const keyedPrefix = "hmac-sha256:"

// Key is an installation's pseudonym key. Its String never shows the secret.
type Key struct {
	secret []byte
	id     string
}

// NewKey makes a key of secret, which must be at least MinKeyBytes long.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < MinKeyBytes {
		return nil, fmt.Errorf("pseudonym key: %d bytes, want at least %d (generate one with: openssl rand -hex 32)", len(secret), MinKeyBytes)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("breach pseudonym key id"))
	return &Key{secret: append([]byte(nil), secret...), id: hex.EncodeToString(m.Sum(nil)[:8])}, nil
}

// ID names the key without revealing it: the first 64 bits of an HMAC of a fixed text.
func (k *Key) ID() string { return k.id }

// Scheme is the scheme of pseudonyms under this key.
func (k *Key) Scheme() Scheme { return Scheme(keyedPrefix + k.id) }

func (k *Key) String() string { return "pseudonym key " + k.id }

// Deriver derives the pseudonym of value (a normalised address, or "id\x00" and a subject id)
// within an incident.
type Deriver func(incidentID, value string) string

// ErrOtherKey: the incident's pseudonyms were made under another key than this worker's.
var ErrOtherKey = errors.New("pseudonyms of this incident were made under another key")

// For returns the deriver of scheme s: Legacy, or k's own scheme. A scheme of another key is an
// error wrapping ErrOtherKey: its pseudonyms cannot be reproduced here, and new ones would not
// match the ones recorded.
func (k *Key) For(s Scheme) (Deriver, error) {
	switch {
	case s == Legacy:
		return legacy, nil
	case k != nil && s == k.Scheme():
		return k.derive, nil
	case strings.HasPrefix(string(s), keyedPrefix):
		have := "none"
		if k != nil {
			have = k.id
		}
		return nil, fmt.Errorf("%w: the incident uses key %s, this worker has key %s; give every worker the installation's key (%s or %s)",
			ErrOtherKey, strings.TrimPrefix(string(s), keyedPrefix), have, EnvKey, EnvKeyFile)
	}
	return nil, fmt.Errorf("unknown pseudonym scheme %q", s)
}

func (k *Key) derive(incidentID, value string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(incidentID))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// legacy is the unkeyed scheme, kept for incidents whose notices began under it.
func legacy(incidentID, value string) string {
	h := sha256.Sum256([]byte(incidentID + "\x00" + value))
	return hex.EncodeToString(h[:16])
}

// Load returns the installation's key: from EnvKey, else the file EnvKeyFile names, else
// home/LocalFile, created on first use (0600, in a directory made 0700 if missing). getenv is
// os.Getenv in production.
func Load(getenv func(string) string, home string) (*Key, error) {
	if v := strings.TrimSpace(getenv(EnvKey)); v != "" {
		secret, err := decode(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return NewKey(secret)
	}
	if path := getenv(EnvKeyFile); path != "" {
		return loadFile(path)
	}
	if home == "" {
		return nil, fmt.Errorf("no pseudonym key: set %s or %s", EnvKey, EnvKeyFile)
	}
	path := filepath.Join(home, LocalFile)
	k, err := loadFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	return create(path)
}

func loadFile(path string) (*Key, error) {
	raw, err := infile.ReadFile(path, 4096)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key file: %w", err)
	}
	secret := raw
	if s := strings.TrimSpace(string(raw)); len(raw) != MinKeyBytes || s != string(raw) {
		if secret, err = decode(s); err != nil {
			return nil, fmt.Errorf("pseudonym key file %s: %w", path, err)
		}
	}
	return NewKey(secret)
}

// create writes a new random key to path, unless another process did first.
func create(path string) (*Key, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	secret := make([]byte, MinKeyBytes)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	text := hex.EncodeToString(secret) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	_, werr := f.WriteString(text)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("pseudonym key: write %s: %w", path, werr)
	}
	return NewKey(secret)
}

// decode reads a key written as hex or base64 (standard or URL alphabet, padded or not).
func decode(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not hex or base64 (generate a key with: openssl rand -hex 32)")
}
