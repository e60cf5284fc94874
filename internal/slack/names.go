package slack

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/console"
)

// MaxChannelName is Slack's limit on channel names.
const MaxChannelName = 80

// ChannelName is the incident channel's name: inc-YYYYMMDD-<slug> (drill-… for drills),
// lowercase, at most 80 characters. attempt 1 is the plain name; attempt n > 1 adds "-n", still
// within 80 characters.
func ChannelName(title string, drill bool, day time.Time, attempt int) string {
	base := console.ChannelName("", title, drill, day)
	if attempt <= 1 {
		return base
	}
	suffix := "-" + strconv.Itoa(attempt)
	if len(base)+len(suffix) > MaxChannelName {
		base = strings.TrimRight(base[:MaxChannelName-len(suffix)], "-")
	}
	return base + suffix
}

var userIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// IsUserID reports whether s looks like a Slack user id (U…, or W… on Enterprise Grid).
func IsUserID(s string) bool { return userIDPattern.MatchString(s) }

// UserIDs keeps the entries of ids that are Slack user ids, once each, in order.
func UserIDs(ids ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range ids {
		for _, id := range list {
			id = strings.TrimSpace(id)
			if IsUserID(id) && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// SplitList splits a comma- or space-separated list ("U1, U2 U3").
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == ';' })
}

// Mention shows an identity: a Slack mention for a user id, else the identity as it is.
func Mention(id string) string {
	if IsUserID(id) {
		return "<@" + id + ">"
	}
	return Escape(id)
}

// Escape makes text safe in mrkdwn: &, < and > are control characters.
func Escape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// FindIncidentID returns the first incident ID in s, or "".
func FindIncidentID(s string) string { return incident.FindID(s) }

// IsIncidentID reports whether s is exactly an incident ID.
func IsIncidentID(s string) bool { return incident.IsID(s) }
