package ingress

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how far a request's timestamp may be from now: older requests are replays.
const MaxSkew = 5 * time.Minute

// Verification failures. Each is answered 401 and nothing is parsed.
var (
	ErrMissingHeaders = errors.New("missing X-Slack-Request-Timestamp or X-Slack-Signature")
	ErrBadTimestamp   = errors.New("X-Slack-Request-Timestamp is not a Unix time")
	ErrStale          = errors.New("request timestamp is more than 5 minutes from now (a replay, or a wrong clock)")
	ErrBadSignature   = errors.New("signature does not match")
	ErrNoSecret       = errors.New("no signing secret configured")
)

// Verify checks a Slack request signature: v0=hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" +
// body)), with the timestamp within MaxSkew of now and a constant-time comparison. It is a pure
// function of its arguments.
func Verify(secret, timestamp, signature string, body []byte, now time.Time) error {
	if secret == "" {
		return ErrNoSecret
	}
	if timestamp == "" || signature == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%w: %s", ErrStale, d.Round(time.Second))
	}
	given, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(given)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}
