package slack

import (
	"context"
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"
)

// IsUserGroupID reports whether id looks like a Slack user group id (S…), as roles may name
// a group such as @privacy-team instead of its members.
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

// ExpandUserGroups replaces each user group id in ids by the group's members, once each, keeping
// the order; other ids pass through. The incident then holds the people who had the role when it
// was declared, which its validators can check without calling Slack.
func ExpandUserGroups(ctx context.Context, api *slackgo.Client, ids []string) ([]string, error) {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	var failed []string
	for _, id := range ids {
		if !IsUserGroupID(id) {
			add(id)
			continue
		}
		members, err := api.GetUserGroupMembersContext(ctx, id)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		for _, m := range members {
			add(m)
		}
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("read the members of user group %s (the app needs the usergroups:read scope)", strings.Join(failed, "; "))
	}
	return out, nil
}
