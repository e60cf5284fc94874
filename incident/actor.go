package incident

import (
	"fmt"
	"regexp"
	"strings"
)

// An actor is who acts in an incident, named with the source that vouches for them:
//
//	slack:<team>/<user>   a Slack user of a workspace (the Slack ingress signs for them)
//	cli:<name>            a person at the command line, holding a signing key
//	oidc:<issuer>#<sub>   a subject of an OpenID Connect provider (the web dashboard signs for them)
//
// Roles list actors; the same person reached through two sources is two actors.
const (
	SourceSlack = "slack"
	SourceCLI   = "cli"
	SourceOIDC  = "oidc"
)

var (
	slackPart = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)
	cliName   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// SlackActor names a Slack user of a workspace.
func SlackActor(team, user string) string { return SourceSlack + ":" + team + "/" + user }

// CLIActor names a person at the command line.
func CLIActor(name string) string { return SourceCLI + ":" + name }

// ParseActor splits an actor into its source and the rest, and checks its form.
func ParseActor(actor string) (source, rest string, err error) {
	source, rest, ok := strings.Cut(actor, ":")
	if !ok {
		return "", "", fmt.Errorf("actor %q has no source: write slack:<team>/<user>, cli:<name> or oidc:<issuer>#<subject>", clip(actor))
	}
	switch source {
	case SourceSlack:
		team, user, ok := strings.Cut(rest, "/")
		if !ok || !slackPart.MatchString(team) || !slackPart.MatchString(user) {
			return "", "", fmt.Errorf("actor %q: a Slack actor is slack:<team id>/<user id>, e.g. slack:T0123ABCD/U0456EFGH", clip(actor))
		}
	case SourceCLI:
		if !cliName.MatchString(rest) {
			return "", "", fmt.Errorf("actor %q: a command-line actor is cli:<name>, the name in lower case letters, digits, '.', '_' or '-' (at most 64)", clip(actor))
		}
	case SourceOIDC:
		iss, sub, ok := strings.Cut(rest, "#")
		if !ok || !strings.HasPrefix(iss, "https://") || sub == "" || len(actor) > 512 {
			return "", "", fmt.Errorf("actor %q: an OpenID Connect actor is oidc:<https issuer>#<subject>", clip(actor))
		}
	default:
		return "", "", fmt.Errorf("actor %q: unknown source %q; the sources are slack, cli and oidc", clip(actor), clip(source))
	}
	return source, rest, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
