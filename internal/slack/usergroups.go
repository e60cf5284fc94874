package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/incident"
)

// IsUserGroupID reports whether id looks like a Slack user group id (S…).
func IsUserGroupID(id string) bool {
	if len(id) < 9 || id[0] != 'S' {
		return false
	}
	for _, r := range id[1:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// UserGroup returns the workspace and the group an identity names when it is a user group of
// a workspace, slack:<team>/<S…>, as roles may name a group such as @privacy-team instead of
// its members.
func UserGroup(identity string) (team, group string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(identity), incident.SourceSlack+":")
	if !found {
		return "", "", false
	}
	team, group, found = strings.Cut(rest, "/")
	if !found || team == "" || !IsUserGroupID(group) {
		return "", "", false
	}
	return team, group, true
}

// GroupFailure is a user group whose members could not be read.
type GroupFailure struct {
	// Group is the group as the roles name it: slack:<team>/<S…>.
	Group string
	Err   error
}

// Reason says in a few words why, for people: Slack's error code, or that Slack did not answer.
func (f GroupFailure) Reason() string {
	var se slackgo.SlackErrorResponse
	var sc slackgo.StatusCodeError
	var rl *slackgo.RateLimitedError
	switch {
	case errors.As(f.Err, &se) && se.Err == "missing_scope":
		return "the app lacks the usergroups:read scope"
	case errors.As(f.Err, &se) && se.Err == "no_such_subteam":
		return "Slack knows no such group in this workspace"
	case errors.As(f.Err, &se):
		return "Slack answered " + se.Err
	case errors.As(f.Err, &rl):
		return "Slack kept rate-limiting the request"
	case errors.As(f.Err, &sc):
		return fmt.Sprintf("Slack answered HTTP %d", sc.Code)
	}
	return "Slack could not be reached"
}

func (f GroupFailure) Error() string {
	return fmt.Sprintf("read the members of user group %s: %v", f.Group, f.Err)
}

// GroupAttempts is how many times the members of a group are asked for when Slack is busy or
// failing.
const GroupAttempts = 3

// ExpandUserGroups replaces each user group among ids (slack:<team>/<S…>) by its members, as
// actors of the same workspace, once each, keeping the order; other ids pass through. The
// incident then holds the people who had the role when it was declared, which its validators
// check without calling Slack. A group Slack is busy or failing for is asked for again (see
// Retry); a group that still cannot be read is left out and returned as a failure, so that the
// caller can say so: the other ids still come through.
func ExpandUserGroups(ctx context.Context, api *slackgo.Client, ids []string) ([]string, []GroupFailure) {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	var failed []GroupFailure
	for _, id := range ids {
		team, group, ok := UserGroup(id)
		if !ok {
			add(id)
			continue
		}
		var members []string
		err := Retry(ctx, GroupAttempts, func() error {
			var err error
			members, err = api.GetUserGroupMembersContext(ctx, group)
			return err
		})
		if err != nil {
			failed = append(failed, GroupFailure{Group: id, Err: err})
			continue
		}
		for _, m := range members {
			add(incident.SlackActor(team, m))
		}
	}
	return out, failed
}
