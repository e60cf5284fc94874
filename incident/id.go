// Package incident is the domain of a breach incident: its identity and the names shared by the
// workflows, the adapters and the command line. It does no I/O and imports no Temporal package.
package incident

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// An incident ID is INC-<UTC date of declaration>-<suffix>. New IDs carry 16 hexadecimal digits
// (64 random bits), so that two incidents declared the same day never meet by chance; IDs of
// incidents declared before carry 4, and stay valid.
const (
	idPrefix    = "INC-"
	suffixBytes = 8
	// MaxIDLength bounds an ID anywhere it is read from a person or a path.
	MaxIDLength = len(idPrefix) + len("20060102-") + 2*suffixBytes
)

var idPattern = regexp.MustCompile(`^INC-[0-9]{8}-(?:[0-9A-F]{4}|[0-9A-F]{16})$`)

// idInText finds an ID inside text; the longer suffix first.
var idInText = regexp.MustCompile(`INC-[0-9]{8}-(?:[0-9A-F]{16}|[0-9A-F]{4})\b`)

// NewID mints a fresh incident ID for an incident declared at now.
func NewID(now time.Time) string {
	var b [suffixBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on the platforms Go supports (it panics rather than return).
		panic(fmt.Sprintf("incident id: %v", err))
	}
	return format(now, b[:])
}

// KeyedID derives an ID from an idempotency key and the day the organisation became aware, so
// that the same declaration maps to the same incident; attempt moves to the next candidate when
// another incident already holds one.
func KeyedID(aware time.Time, key string, attempt int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", key, attempt)))
	return format(aware, h[:suffixBytes])
}

// DerivedID derives an ID from a seed that is unique to its caller (a scheduled drill's run ID).
func DerivedID(day time.Time, seed string) string {
	h := sha256.Sum256([]byte(seed))
	return format(day, h[:suffixBytes])
}

func format(day time.Time, suffix []byte) string {
	return idPrefix + day.UTC().Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(suffix))
}

// ValidateID checks that id is an incident ID and nothing else: it is safe in a path, a
// workflow ID and a Slack message.
func ValidateID(id string) error {
	if len(id) > MaxIDLength || !idPattern.MatchString(id) {
		shown := id
		if len(shown) > MaxIDLength {
			shown = shown[:MaxIDLength] + "…"
		}
		return fmt.Errorf("%q is not an incident ID: it looks like INC-20261128-7F3A9C2E1B4D5A6F (INC-, the date, 16 hexadecimal digits)", shown)
	}
	return nil
}

// IsID reports whether s is exactly an incident ID.
func IsID(s string) bool { return ValidateID(s) == nil }

// FindID returns the first incident ID in text, or "".
func FindID(text string) string { return idInText.FindString(text) }
