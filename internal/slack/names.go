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

// ChannelName is the incident channel's name: inc-YYYYMMDD-<slug>-<tag> (drill-… for drills),
// lowercase, at most 80 characters, where the date is the incident's (from its ID) and the tag
// the last four digits of its ID. Every worker, and every retry, computes the same name for the
// same incident: a channel of that name that Slack already has is this incident's, created by
// an attempt whose answer was lost (see OpenRoom). attempt n > 1 adds "-n" for a name held by
// something else, still within 80 characters.
func ChannelName(incidentID, title string, drill bool, attempt int) string {
	day, tag := incidentDay(incidentID)
	base := console.ChannelName("", title, drill, day)
	suffix := "-" + tag
	if attempt > 1 {
		suffix += "-" + strconv.Itoa(attempt)
	}
	if len(base)+len(suffix) > MaxChannelName {
		base = strings.TrimRight(base[:MaxChannelName-len(suffix)], "-")
	}
	return base + suffix
}

// incidentDay is the UTC day an incident ID names, and the lowercase tag of its last four
// digits.
func incidentDay(incidentID string) (time.Time, string) {
	parts := strings.Split(incidentID, "-")
	if len(parts) != 3 || len(parts[2]) < 4 {
		return time.Time{}, "x"
	}
	day, _ := time.Parse("20060102", parts[1])
	return day, strings.ToLower(parts[2][len(parts[2])-4:])
}

var userIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// IsUserID reports whether s looks like a Slack user id (U…, or W… on Enterprise Grid).
func IsUserID(s string) bool { return userIDPattern.MatchString(s) }

// SlackUser returns the workspace and the Slack user an identity names: a slack:<team>/<user>
// actor, or a bare user id (team ""), as roles listed them before actors had sources.
func SlackUser(identity string) (team, user string, ok bool) {
	identity = strings.TrimSpace(identity)
	if IsUserID(identity) {
		return "", identity, true
	}
	rest, found := strings.CutPrefix(identity, incident.SourceSlack+":")
	if !found {
		return "", "", false
	}
	team, user, found = strings.Cut(rest, "/")
	if !found || team == "" || !IsUserID(user) {
		return "", "", false
	}
	return team, user, true
}

// UserIDs keeps the Slack users that ids name (actors slack:<team>/<user>, or bare user ids),
// once each, in order.
func UserIDs(ids ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range ids {
		for _, id := range list {
			if _, u, ok := SlackUser(id); ok && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

// SplitList splits a comma- or space-separated list ("U1, U2 U3").
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == ';' })
}

// Mention shows an identity: a Slack mention for a Slack user (actor or bare id), else the
// identity as it is.
func Mention(id string) string {
	if _, u, ok := SlackUser(id); ok {
		return "<@" + u + ">"
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
