// Package keys keeps the Ed25519 signing keys of this installation's signers: a person at the
// command line (cli:<name>), the Slack ingress, the web dashboard and the drill auto-pilot. A private key is a
// PKCS #8 PEM file readable by its owner only; its public key sits beside it in the form the
// configuration takes (ed25519:<base64>).
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/breachops/breach/incident"
)

// Dir is where an installation keeps its keys.
func Dir(home string) string { return filepath.Join(home, "keys") }

// File names the private key of a signer: cli:<name> → cli-<name>.key; slack-ingress, web and
// drill-autopilot as they are.
func File(home, signer string) (string, error) {
	name := signer
	switch {
	case signer == incident.SlackIngress || signer == incident.WebDashboard || signer == incident.DrillAutopilot:
	default:
		src, rest, err := incident.ParseActor(signer)
		if err != nil {
			return "", err
		}
		if src != incident.SourceCLI {
			return "", fmt.Errorf("%s: only command-line actors hold their own key; Slack users are vouched for by the Slack ingress, people signed in through OpenID Connect by the web dashboard", signer)
		}
		name = "cli-" + rest
	}
	return filepath.Join(Dir(home), name+".key"), nil
}

// Create makes a new key pair for signer under home. An existing key is kept, never replaced:
// the configuration and running incidents name it.
func Create(home, signer string) (ed25519.PrivateKey, bool, error) {
	path, err := File(home, signer)
	if err != nil {
		return nil, false, err
	}
	if k, err := Load(path); err == nil {
		return k, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	// Written whole beside, then linked into place: processes sharing the home that make the
	// key at the same moment all end with the one linked first, and none reads a part of it.
	tmp, err := writeTemp(filepath.Dir(path), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	err = os.Link(tmp, path)
	os.Remove(tmp)
	if errors.Is(err, fs.ErrExist) {
		k, err := Load(path) // made meanwhile by another process
		return k, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("create %s: %w", path, err)
	}
	pub := incident.EncodePublicKey(priv.Public().(ed25519.PublicKey)) + "\n"
	pubPath := strings.TrimSuffix(path, ".key") + ".pub"
	tmp, err = writeTemp(filepath.Dir(path), []byte(pub), 0o644)
	if err == nil {
		if err = os.Rename(tmp, pubPath); err != nil {
			os.Remove(tmp)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("write the public key beside %s: %w", path, err)
	}
	return priv, true, nil
}

// writeTemp writes data to a new hidden file in dir and returns its path.
func writeTemp(dir string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Load reads a private key file. A key readable by others than its owner is refused.
func Load(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("signing key %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s can be read by others (mode %o); chmod 600 it", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not an Ed25519 key", path)
	}
	return priv, nil
}

// LoadSigner reads signer's private key under home, saying how to make one when there is none.
func LoadSigner(home, signer string) (ed25519.PrivateKey, error) {
	path, err := File(home, signer)
	if err != nil {
		return nil, err
	}
	k, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		how, where := "breach keys init --as "+strings.TrimPrefix(signer, incident.SourceCLI+":"), "signing.keys"
		switch signer {
		case incident.SlackIngress:
			how, where = "breach keys init --slack-ingress", "signing.slack_ingress"
		case incident.WebDashboard:
			how, where = "breach keys init --web", "signing.web"
		}
		return nil, fmt.Errorf("no signing key for %s at %s: create one with `%s`, and put its public key in the configuration (%s)", signer, path, how, where)
	}
	return k, err
}

// Local reads the public keys kept under home: cli: actors by actor, and the Slack ingress's, the
// web dashboard's and the auto-pilot's under their signer names.
func Local(home string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(Dir(home), "*.pub"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		pub := strings.TrimSpace(string(data))
		if _, err := incident.ParsePublicKey(pub); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".pub")
		if rest, ok := strings.CutPrefix(name, "cli-"); ok {
			name = incident.CLIActor(rest)
		}
		out[name] = pub
	}
	return out, nil
}
