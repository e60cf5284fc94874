// Package codec encrypts incident data before it reaches Temporal: a payload codec (AES-256-GCM,
// a random 96-bit nonce per payload, the key id in the payload's metadata) for every client and
// worker, the key ring it reads from the environment or a file, and the HTTP handler of the
// remote codec protocol through which the Temporal UI and CLI decrypt what they show.
//
// Keys are never printed: errors and descriptions name a key by its id and where it was read.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// Environment variables that hold the keys.
const (
	// EnvKeys holds the keys: id=base64key pairs separated by commas or white space. The first
	// encrypts; all decrypt.
	EnvKeys = "BREACH_CODEC_KEYS"
	// EnvKeysFile names a file holding the keys in the same form, one pair per line, # comments.
	EnvKeysFile = "BREACH_CODEC_KEYS_FILE"
)

// LocalKeyFile is the key file of the embedded default, in BREACH_HOME.
const LocalKeyFile = "codec-keys"

// keySize is AES-256's key length in bytes.
const keySize = 32

// HowToMakeKey is the shell command that prints a new key; errors quote it.
const HowToMakeKey = "head -c 32 /dev/urandom | base64"

// Keys is a key ring: the first key encrypts, every key decrypts. Adding a key in front rotates:
// new payloads use it, old ones still decrypt with the key their metadata names.
type Keys struct {
	ids   []string
	aeads map[string]cipher.AEAD
	// Source says where the keys were read: "BREACH_CODEC_KEYS" or a file's path.
	Source string
}

// Current is the id of the key that encrypts.
func (k *Keys) Current() string { return k.ids[0] }

// IDs lists the key ids, the current one first.
func (k *Keys) IDs() []string { return append([]string(nil), k.ids...) }

// String describes the ring without its secrets: "k2, k1 from BREACH_CODEC_KEYS".
func (k *Keys) String() string {
	return strings.Join(k.ids, ", ") + " from " + k.Source
}

// ParseKeys reads id=base64key pairs separated by commas, spaces or new lines; # starts a comment
// that runs to the end of the line. source names the text in errors. Errors never quote a key.
func ParseKeys(text, source string) (*Keys, error) {
	k := &Keys{aeads: map[string]cipher.AEAD{}, Source: source}
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, entry := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			n++
			id, secret, ok := strings.Cut(entry, "=")
			// A bare base64 key ends in '=' padding: its "id" would be key material.
			if !ok || strings.Trim(secret, "=") == "" {
				return nil, fmt.Errorf("%s: entry %d is not id=base64key: write each key as id=base64key, e.g. k1=$(%s)", source, n, HowToMakeKey)
			}
			if !validID(id) {
				return nil, fmt.Errorf("%s: entry %d: the key id before '=' must be 1 to 64 letters, digits, dots, dashes or underscores", source, n)
			}
			if _, dup := k.aeads[id]; dup {
				return nil, fmt.Errorf("%s: key id %q appears twice: each key needs its own id (payloads name the key that encrypted them)", source, id)
			}
			raw, err := decodeKey(secret)
			if err != nil {
				return nil, fmt.Errorf("%s: key %q: %v; make one with: %s", source, id, err, HowToMakeKey)
			}
			aead, err := newAEAD(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: key %q: %v", source, id, err)
			}
			k.ids = append(k.ids, id)
			k.aeads[id] = aead
		}
	}
	if len(k.ids) == 0 {
		return nil, fmt.Errorf("%s holds no key: write id=base64key, e.g. k1=$(%s)", source, HowToMakeKey)
	}
	return k, nil
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// decodeKey accepts standard or URL-safe base64, padded or not. Its errors never quote the input.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != keySize {
				return nil, fmt.Errorf("decodes to %d bytes; AES-256 needs %d random bytes", len(raw), keySize)
			}
			return raw, nil
		}
	}
	return nil, errors.New("the value after '=' is not base64")
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Source is where Load looks for keys.
type Source struct {
	// Keys is the value of BREACH_CODEC_KEYS.
	Keys string
	// KeysFile is the value of BREACH_CODEC_KEYS_FILE.
	KeysFile string
	// Home is BREACH_HOME, which holds the local key file.
	Home string
	// CreateLocal lets Load create the local key file when it does not exist yet: the embedded
	// default, for a Temporal server on this machine.
	CreateLocal bool
}

// SourceFromEnv reads BREACH_CODEC_KEYS and BREACH_CODEC_KEYS_FILE.
func SourceFromEnv(home string, createLocal bool) Source {
	return Source{Keys: os.Getenv(EnvKeys), KeysFile: os.Getenv(EnvKeysFile), Home: home, CreateLocal: createLocal}
}

// LocalKeyPath is the local key file in home.
func LocalKeyPath(home string) string { return filepath.Join(home, LocalKeyFile) }

// ErrNoKeys is returned (wrapped) by Load when no key is configured and the local key file may
// not be created.
var ErrNoKeys = errors.New("no payload encryption key")

// Load finds the keys: BREACH_CODEC_KEYS, else the file BREACH_CODEC_KEYS_FILE names, else the
// local key file in Home, which is created (mode 0600, one new random key) when CreateLocal
// allows it and it does not exist.
func Load(s Source) (*Keys, error) {
	switch {
	case s.Keys != "" && s.KeysFile != "":
		return nil, fmt.Errorf("both %s and %s are set: set one of them", EnvKeys, EnvKeysFile)
	case s.Keys != "":
		return ParseKeys(s.Keys, EnvKeys)
	case s.KeysFile != "":
		data, err := os.ReadFile(s.KeysFile)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w; point it at the file holding the keys (id=base64key lines)", EnvKeysFile, s.KeysFile, err)
		}
		return ParseKeys(string(data), s.KeysFile)
	}
	path := LocalKeyPath(s.Home)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !s.CreateLocal {
			return nil, fmt.Errorf("%w: %s and %s are not set and %s does not exist; give every worker, CLI, ingress and codec server the same keys, e.g. %s=k1=$(%s); see docs/codec.md",
				ErrNoKeys, EnvKeys, EnvKeysFile, path, EnvKeys, HowToMakeKey)
		}
		if err := createKeyFile(path); err != nil {
			return nil, fmt.Errorf("create the local payload key file %s: %w", path, err)
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read the local payload key file: %w", err)
	}
	// breach made it owner-only; wider access means the keys may be read by other users.
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the payload key file %s can be read by other users (mode %v): chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return ParseKeys(string(data), path)
}

// createKeyFile writes a key file with one new key, readable by its owner only. Processes that
// start together (a worker and an ingress on one BREACH_HOME) end up with the same file: it is
// written aside and linked into place, so nobody reads it half written and the first one wins.
func createKeyFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	var idBytes [4]byte
	secret := make([]byte, keySize)
	if _, err := rand.Read(idBytes[:]); err != nil {
		return err
	}
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	content := fmt.Sprintf(`# Payload encryption keys of breach (AES-256-GCM), created %s.
# The first key encrypts what breach hands Temporal; every key listed decrypts. To rotate, add a
# new line above the others and keep the old ones. Keep this file secret and back it up: without
# it, the incidents this Temporal server holds cannot be read. See docs/codec.md.
local-%s=%s
`, time.Now().UTC().Format(time.RFC3339), hex.EncodeToString(idBytes[:]), base64.StdEncoding.EncodeToString(secret))
	tmp, err := os.CreateTemp(dir, ".codec-keys-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
