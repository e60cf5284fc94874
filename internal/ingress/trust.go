package ingress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/incident"
	breachslack "github.com/breachops/breach/internal/slack"
)

// origin is where Slack says a request comes from: the workspace, the Enterprise Grid
// organisation and the app. appUnsaid is a request whose kind Slack sends without the app's id
// (a message shortcut): the signature, made with this app's signing secret, or the Socket Mode
// connection, opened with its app-level token, already says it is for this app.
type origin struct {
	team, enterprise, app string
	appUnsaid             bool
}

func commandOrigin(c slackgo.SlashCommand) origin {
	return origin{team: c.TeamID, enterprise: c.EnterpriseID, app: c.APIAppID}
}

func interactionOrigin(cb slackgo.InteractionCallback) origin {
	o := origin{team: cb.Team.ID, enterprise: cb.Enterprise.ID, app: cb.APIAppID}
	if o.team == "" && strings.HasPrefix(cb.User.TeamID, "T") {
		o.team = cb.User.TeamID
	}
	if o.enterprise == "" {
		o.enterprise = cb.Team.EnterpriseID
	}
	// Slack leaves api_app_id out of message shortcuts; one that names an app must name this one.
	o.appUnsaid = cb.Type == slackgo.InteractionTypeMessageAction && o.app == ""
	return o
}

// foreign says why a request from o is not for this breach, or "" when it is: its workspace
// must be one of TeamIDs, its organisation EnterpriseID (when set) and its app AppID.
func (s *Server) foreign(o origin) string {
	switch {
	case o.team == "" || !slices.Contains(s.cfg.TeamIDs, o.team):
		return "workspace " + quoteID(o.team) + " is not in slack.team_ids"
	case s.cfg.EnterpriseID != "" && o.enterprise != s.cfg.EnterpriseID:
		return "enterprise " + quoteID(o.enterprise) + " is not slack.enterprise_id"
	case o.app != s.cfg.AppID && !o.appUnsaid:
		return "app " + quoteID(o.app) + " is not slack.app_id"
	}
	return ""
}

func quoteID(id string) string {
	if id == "" {
		return "(none)"
	}
	return truncateRunes(id, 40)
}

// refused reports whether a request must be dropped because it comes from another workspace,
// organisation or app, and logs it.
func (s *Server) refused(kind string, o origin, user string) bool {
	why := s.foreign(o)
	if why != "" {
		s.cfg.Logger.Warn("slack request from elsewhere refused", "kind", kind, "reason", why,
			"team", quoteID(o.team), "enterprise", quoteID(o.enterprise), "app", quoteID(o.app), "user", truncateRunes(user, 40))
	}
	return why != ""
}

// The hosts Slack's response URLs are on (https://hooks.slack.com/commands/…, /actions/…):
// hooks.slack.com, and slack.com's other hosts.
var slackResponseHosts = []string{"hooks.slack.com", "*.slack.com"}

// slackFileHosts is where Slack serves the files people share (url_private_download).
var slackFileHosts = []string{"files.slack.com"}

// responseURLAllowed reports whether breach may post to a response URL: https on one of Slack's
// hosts, or one of ResponseHosts (which may be http, for a local Slack in tests). Nothing else is
// ever fetched: a forged or mistaken response_url must not make breach call into a network.
func (s *Server) responseURLAllowed(raw string) bool {
	return urlAllowed(raw, slackResponseHosts, s.cfg.ResponseHosts)
}

// fileURLAllowed reports whether breach may download a shared file from raw, with its bot
// token: https on Slack's file host, or one of FileHosts (which may be http, for a local Slack
// in tests). The token is never sent anywhere else.
func (s *Server) fileURLAllowed(raw string) bool {
	return urlAllowed(raw, slackFileHosts, s.cfg.FileHosts)
}

// urlAllowed reports whether raw is an https URL on one of slackHosts (port 443), or an http(s)
// URL on one of extra; a URL with credentials is never allowed.
func urlAllowed(raw string, slackHosts, extra []string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	if u.Scheme == "https" {
		name := host
		if h, port, err := net.SplitHostPort(host); err == nil {
			if port != "443" {
				name = ""
			} else {
				name = h
			}
		}
		for _, p := range slackHosts {
			if hostMatches(p, name) {
				return true
			}
		}
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return false
	}
	for _, p := range extra {
		if hostMatches(strings.ToLower(p), host) {
			return true
		}
	}
	return false
}

// hostMatches matches a host (with its port, when the pattern has one) against a pattern: a
// host, host:port, or *.domain (any host under domain, not domain itself).
func hostMatches(pattern, host string) bool {
	if host == "" {
		return false
	}
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+suffix) && !strings.Contains(host, ":")
	}
	return host == pattern
}

// checkRedirect keeps a response URL's redirects on allowed hosts.
func (s *Server) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 || !s.responseURLAllowed(req.URL.String()) {
		return errors.New("response URL redirected off Slack's hosts")
	}
	return nil
}

// errFileRedirect is a file download redirected off Slack's file host.
var errFileRedirect = errors.New("the download was redirected off Slack's file host")

// checkFileRedirect keeps a file download's redirects on Slack's file host.
func (s *Server) checkFileRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 || !s.fileURLAllowed(req.URL.String()) {
		return errFileRedirect
	}
	return nil
}

// Sentences shown in Slack when something behind breach failed; the detail goes to the log.
const (
	temporalTrouble = "breach could not reach Temporal; try again in a minute, or use the CLI runbook (`breach status`, `breach declare`, …)."
	slackTrouble    = "Slack did not do what breach asked; try again, or use the CLI runbook (`breach status`, `breach declare`, …)."
)

// trouble is what a person is shown when work failed: a validator's refusal as it is, a
// timeout, or a sentence without the error's detail (which names servers, ports and internals);
// the detail is logged with what was being done.
func (s *Server) trouble(what string, err error) string {
	var rej *RejectedError
	if errors.As(err, &rej) {
		return breachslack.Escape(rej.Reason)
	}
	s.cfg.Logger.Warn("slack work failed", "work", what, "error", err)
	switch {
	case errors.Is(err, ErrUnreachable):
		return temporalTrouble
	case errors.Is(err, context.DeadlineExceeded):
		return "Temporal did not answer in time; try again in a minute (nothing was changed if this was refused), or use the CLI runbook."
	case isSlackError(err):
		return slackTrouble
	}
	return temporalTrouble
}

func isSlackError(err error) bool {
	var se slackgo.SlackErrorResponse
	var sc slackgo.StatusCodeError
	var rl *slackgo.RateLimitedError
	return errors.As(err, &se) || errors.As(err, &sc) || errors.As(err, &rl)
}

// actor names the person behind a request: slack:<workspace>/<user>.
func actor(o origin, user string) string { return incident.SlackActor(o.team, user) }

// holdsRole reports whether actor holds the DPO or commander role of an incident.
func holdsRole(r incident.Roles, actor string) bool {
	return r.Has(incident.RoleDPO, actor) || r.Has(incident.RoleCommander, actor)
}
