// Package webhooktest is the receiving end of the webhook provider's contract, written apart
// from the provider so that tests check the provider against the contract rather than against
// itself: the headers, the JSON body and the signature a receiver checks. No production package
// imports it.
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Headers of every request.
const (
	// TimestampHeader is when the request was signed, in unix seconds.
	TimestampHeader = "X-Breach-Timestamp"
	// SignatureHeader is "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
	SignatureHeader = "X-Breach-Signature"
	// IdempotencyHeader is the same for every retry of one call.
	IdempotencyHeader = "Idempotency-Key"
)

// MaxSkew is how far a signed timestamp may be from the receiver's clock.
const MaxSkew = 5 * time.Minute

// Request is the JSON body of a request.
type Request struct {
	// Action is isolate, verify or release.
	Action     string   `json:"action"`
	System     string   `json:"system"`
	Addresses  []string `json:"addresses"`
	InstanceID string   `json:"instance_id,omitempty"`
	// Allow lists what must stay reachable while the system is isolated.
	Allow    []string `json:"allow"`
	Incident string   `json:"incident,omitempty"`
}

// Verify checks a received request's signature, and that its timestamp is within MaxSkew of
// now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s %q", TimestampHeader, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%s %s is %s away from now", TimestampHeader, timestamp, d.Round(time.Second))
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	if !hmac.Equal([]byte(signature), []byte("sha256="+hex.EncodeToString(m.Sum(nil)))) {
		return fmt.Errorf("bad %s", SignatureHeader)
	}
	return nil
}
