package incident

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A decision sent to an incident (an Update) is signed by whoever vouches for the actor: a
// person at the command line with their own key, the Slack ingress for the Slack user it
// verified, or the web dashboard for the person it signed in through OpenID Connect. The incident checks the signature against the public keys it was declared with, so
// a request forged by someone who can reach Temporal but holds no key is refused, a CLI user
// cannot act as a Slack user, and the timeline records who signed each decision.

// SlackIngress is the signer of requests that the Slack ingress forwards for slack: actors.
const SlackIngress = "slack-ingress"

// WebDashboard is the signer of requests that the web dashboard (the deadline board) forwards
// for oidc: actors, the people it signed in.
const WebDashboard = "web"

// DrillAutopilot is the signer of a drill's auto-pilot, which plays the scenario's people.
const DrillAutopilot = "drill-autopilot"

// SignatureWindow is how far a signature's time may be from the incident's clock: a replay
// after it is refused outright, one within it by its nonce.
const SignatureWindow = 5 * time.Minute

// Signature signs one request to one incident.
type Signature struct {
	// Signer is the key's holder: the acting cli: actor, SlackIngress or WebDashboard.
	Signer string `json:"signer"`
	// KeyID names the public key (KeyID of it).
	KeyID string    `json:"key_id"`
	At    time.Time `json:"at"`
	// Nonce makes each signature unique, so that none can be sent twice.
	Nonce string `json:"nonce"`
	// Value is the Ed25519 signature of SignedBytes, base64.
	Value string `json:"value"`
}

// Signed is a request that carries its signature.
type Signed interface {
	// Sig returns the signature, or nil.
	Sig() *Signature
	// Unsigned returns the request as it was signed: without its signature.
	Unsigned() any
}

// SignedBytes is what a signature covers: the incident, the Update, the request without its
// signature (as JSON), the time and the nonce.
func SignedBytes(incidentID, update string, request any, at time.Time, nonce string) ([]byte, error) {
	body, err := json.Marshal(request)
	if err != nil {
		return nil, fmt.Errorf("encode the %s request: %w", update, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "breach-update-v1\n%s\n%s\n%s\n%s\n", incidentID, update, at.UTC().Format(time.RFC3339Nano), nonce)
	b.Write(body)
	return b.Bytes(), nil
}

// Sign signs a request (given without its signature) for an incident's Update.
func Sign(key ed25519.PrivateKey, signer, incidentID, update string, unsigned any, at time.Time) (*Signature, error) {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, err
	}
	s := &Signature{Signer: signer, KeyID: KeyID(key.Public().(ed25519.PublicKey)), At: at.UTC(), Nonce: hex.EncodeToString(n[:])}
	msg, err := SignedBytes(incidentID, update, unsigned, s.At, s.Nonce)
	if err != nil {
		return nil, err
	}
	s.Value = base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg))
	return s, nil
}

// Keys are the public keys an incident trusts: a cli: actor's own key, the Slack ingress's key
// for slack: actors and the web dashboard's for oidc: actors. They are fixed when the incident
// is declared.
type Keys struct {
	// Actors maps a cli: actor to its public key ("ed25519:<base64>").
	Actors map[string]string `json:"actors,omitempty"`
	// SlackIngress is the Slack ingress's public key.
	SlackIngress string `json:"slack_ingress,omitempty"`
	// Web is the web dashboard's public key: it signs for the oidc: actors it signed in.
	Web string `json:"web,omitempty"`
	// Autopilot is the drill auto-pilot's public key: in a drill, and only there, it may sign
	// for the cli: actors the scenario's people are played as.
	Autopilot string `json:"autopilot,omitempty"`
}

// Empty reports whether no key is known: an incident declared before signatures.
func (k Keys) Empty() bool {
	return len(k.Actors) == 0 && k.SlackIngress == "" && k.Web == "" && k.Autopilot == ""
}

// Verify checks that sig is a valid signature by the right signer for actor's request to the
// incident, made within SignatureWindow of now. It does not check the nonce's reuse: the
// incident remembers the nonces it has accepted.
func (k Keys) Verify(sig *Signature, actor, incidentID, update string, unsigned any, now time.Time, drill bool) error {
	if sig == nil {
		return errors.New("the request is not signed: send it with `breach` (which signs with your key, see `breach keys init`) or from Slack")
	}
	source, _, err := ParseActor(actor)
	if err != nil {
		return err
	}
	var want, pub string
	switch source {
	case SourceSlack:
		want, pub = SlackIngress, k.SlackIngress
	case SourceCLI:
		want, pub = actor, k.Actors[actor]
		if drill && sig.Signer == DrillAutopilot && k.Autopilot != "" {
			want, pub = DrillAutopilot, k.Autopilot
		}
	case SourceOIDC:
		want, pub = WebDashboard, k.Web
	default:
		return fmt.Errorf("%s: actors of source %s cannot sign requests", actor, source)
	}
	if sig.Signer != want {
		switch source {
		case SourceSlack:
			return fmt.Errorf("%s is a Slack user: only the Slack ingress signs for Slack users (this request was signed by %s)", actor, sig.Signer)
		case SourceOIDC:
			return fmt.Errorf("%s signed in through OpenID Connect: only the web dashboard signs for such people (this request was signed by %s)", actor, sig.Signer)
		}
		return fmt.Errorf("the request for %s was signed by %s: a person signs their own requests", actor, sig.Signer)
	}
	if pub == "" {
		switch source {
		case SourceSlack:
			return errors.New("this incident was declared without the Slack ingress's public key (signing.slack_ingress in the configuration), so it cannot take decisions from Slack; use the CLI")
		case SourceOIDC:
			return errors.New("this incident was declared without the web dashboard's public key (signing.web in the configuration), so it cannot take decisions from the dashboard; use the CLI")
		}
		return fmt.Errorf("this incident knows no public key of %s: add it to keys in the configuration (breach keys init --as %s prints it) before declaring", actor, strings.TrimPrefix(actor, SourceCLI+":"))
	}
	key, err := ParsePublicKey(pub)
	if err != nil {
		return fmt.Errorf("the public key of %s: %w", want, err)
	}
	if sig.KeyID != KeyID(key) {
		return fmt.Errorf("the request was signed with key %s, but this incident knows %s's key as %s; sign with the key in the configuration", clip(sig.KeyID), want, KeyID(key))
	}
	if d := now.Sub(sig.At); d > SignatureWindow || d < -SignatureWindow {
		return fmt.Errorf("the signature was made at %s, %s from the incident's clock (at most %s): a replayed or delayed request; send it again (and check this machine's clock)",
			sig.At.UTC().Format(time.RFC3339), d.Round(time.Second), SignatureWindow)
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return errors.New("the signature is not a base64 Ed25519 signature")
	}
	msg, err := SignedBytes(incidentID, update, unsigned, sig.At, sig.Nonce)
	if err != nil {
		return err
	}
	if !ed25519.Verify(key, msg, raw) {
		return fmt.Errorf("the signature of %s does not match this request: it was changed after signing, or signed for another incident or step", want)
	}
	return nil
}

// KeyID names a public key: the first 16 hexadecimal digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// EncodePublicKey writes a public key as it appears in the configuration: ed25519:<base64>.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads ed25519:<base64>.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(s, "ed25519:")
	if !ok {
		return nil, fmt.Errorf("%q is not a public key: write ed25519:<base64>, as `breach keys init` prints it", clip(s))
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%q is not a base64 Ed25519 public key of %d bytes", clip(s), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}
