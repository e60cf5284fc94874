package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/internal/locale"
	bmail "github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/rules"
)

// check refuses a configuration that cannot work, against the rules' vocabulary: whatever an
// incident would carry from here must be something the rules can evaluate and the plan can use.
// Every problem is reported, in line order.
func (c *Config) check(file string, pos positions) Problems {
	var p Problems
	add := func(field, format string, args ...any) {
		p = append(p, &Error{File: file, Line: pos.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	c.checkOrganisation(add)
	c.checkIdentities(add, "roles.dpo", c.Roles.DPO)
	c.checkIdentities(add, "roles.commander", c.Roles.Commander)
	c.checkIdentities(add, "roles.declarers", c.Roles.Declarers)
	c.checkRoutes(add, pos)
	c.checkAuthorities(add, pos)
	c.checkLanguages(add)
	if r := c.Reminders; r.Every < 0 || r.SlowAfter < 0 || r.DailyAfter < 0 || (r.DailyAfter > 0 && r.DailyAfter < r.SlowAfter) {
		add("reminders", "durations must be positive, and daily_after no earlier than slow_after (e.g. every: 15m, slow_after: 1h, daily_after: 168h)")
	}
	if c.Workflows.EventBudget < 0 || (c.Workflows.EventBudget > 0 && c.Workflows.EventBudget < 200) || c.Workflows.EventBudget > 40000 {
		add("workflows.event_budget", "%d is not a usable budget: leave it out (8,000), or give between 200 and 40,000 events", c.Workflows.EventBudget)
	}
	if c.Datasets.MaxBytes < 0 {
		add("datasets.max_bytes", "%d is negative: give the largest dataset in bytes, or leave it out for 4 GiB", c.Datasets.MaxBytes)
	}
	c.checkSlack(add)
	c.checkWeb(add)
	c.checkSubjectSources(add, pos, filepath.Dir(file))
	sort.SliceStable(p, func(i, j int) bool { return p[i].Line < p[j].Line })
	return p
}

type addFunc func(field, format string, args ...any)

func (c *Config) checkOrganisation(add addFunc) {
	o := c.Organisation
	if o.Timezone != "" {
		switch err := rules.CheckTimezone(o.Timezone); {
		case err != nil && o.Timezone == "Local":
			add("organisation.timezone", "Local is this machine's zone, which differs between machines; write the IANA name of the organisation's zone, such as Europe/Berlin")
		case err != nil:
			add("organisation.timezone", "%q is not a time zone the rules can use: write an IANA name such as Europe/Berlin or America/New_York", o.Timezone)
		}
	}
	if o.Role != "" && !slices.Contains(rules.Roles(), o.Role) {
		add("organisation.role", "unknown role %q%s; write %s", o.Role, didYouMean(o.Role, rules.Roles()), strings.Join(rules.Roles(), " or "))
	}
	for i, e := range o.Establishments {
		if !rules.KnownJurisdiction(strings.ToUpper(e)) {
			add(fmt.Sprintf("organisation.establishments[%d]", i), "%q is not a jurisdiction the rules know; %s", e, rules.JurisdictionHint(e))
		}
	}
	for i, s := range o.Sectors {
		if !rules.KnownSector(s) {
			add(fmt.Sprintf("organisation.sectors[%d]", i), "unknown sector %q%s; the rules know %s. List only those that apply, or none: other sectors change no obligation",
				s, didYouMean(s, rules.SectorNames()), knownSectors())
		}
	}
	c.checkEstablishment(add)
	if !bmail.ValidAddress(o.MailFrom) {
		add("organisation.mail_from", "%q is not an email address reports and notices can be sent from; %s", o.MailFrom, addressFix(o.MailFrom, "privacy@example.com", ""))
	}
}

// checkEstablishment checks the regions and the main establishment, and that the competent
// GDPR authority can be determined from them, as the rules will when an incident is evaluated.
// Lower case is accepted, as for establishments.
func (c *Config) checkEstablishment(add addFunc) {
	o := c.Organisation
	org := rules.Organisation{Role: o.Role, PublicTask: o.PublicTask, Sectors: o.Sectors,
		MainEstablishment: strings.ToUpper(o.MainEstablishment)}
	for _, e := range o.Establishments {
		if e := strings.ToUpper(e); rules.KnownJurisdiction(e) {
			org.Establishments = append(org.Establishments, e)
		}
	}
	for _, s := range o.Sectors {
		if !rules.KnownSector(s) {
			return // reported above; the resolution would not know the sector
		}
	}
	for _, r := range o.EstablishmentRegions {
		org.EstablishmentRegions = append(org.EstablishmentRegions, strings.ToUpper(r))
	}
	err := rules.CheckOrganisation(org)
	var ue *rules.UsageError
	if errors.As(err, &ue) {
		field := "organisation." + ue.Field
		if ue.Field == "establishment_regions" && len(o.EstablishmentRegions) == 0 {
			field = "organisation.establishments" // the regions are missing: point at the establishments
		}
		if ue.Field == "main_establishment" && o.MainEstablishment == "" {
			field = "organisation.establishments"
		}
		add(field, "%s", ue.Msg)
	}
}

// checkAuthorities: each entry as the rules check an override, its address as reports are
// sent, and no code twice.
func (c *Config) checkAuthorities(add addFunc, pos positions) {
	first := map[string]string{}
	for i, a := range c.AuthorityOverrides() {
		f := fmt.Sprintf("authorities[%d]", i)
		for _, p := range a.Check() {
			if p.Field != "email" { // checked below as reports are sent
				add(f+"."+p.Field, "%s", p.Msg)
			}
		}
		if a.Email != "" && !bmail.ValidAddress(a.Email) {
			add(f+".email", "%q is not an email address reports can be sent to; %s", a.Email, addressFix(a.Email, "breach-reports@authority.example", " (the authority's name goes in name:)"))
		}
		if a.Code == "" {
			continue
		}
		if prev, ok := first[a.Code]; ok {
			add(f+".code", "%s is changed twice (the first is %s, line %d); keep one entry per authority", a.Code, prev, pos.line(prev))
			continue
		}
		first[a.Code] = f
	}
}

// checkLanguages: language codes as ISO 639-1 (de, fr), countries as the rules know them.
func (c *Config) checkLanguages(add addFunc) {
	for i, l := range c.Languages.Reports {
		if !locale.Valid(l) {
			add(fmt.Sprintf("languages.reports[%d]", i), "%q is not an ISO 639-1 language code: two lower-case letters such as de, fr, en", l)
		}
	}
	places := make([]string, 0, len(c.Languages.Countries))
	for k := range c.Languages.Countries {
		places = append(places, k)
	}
	sort.Strings(places)
	for _, k := range places {
		f := "languages.countries." + k
		if !rules.KnownJurisdiction(strings.ToUpper(k)) {
			add(f, "%q is not a country or region the rules know; %s", k, rules.JurisdictionHint(k))
		}
		if l := c.Languages.Countries[k]; !locale.Valid(strings.ToLower(l)) {
			add(f, "%q is not an ISO 639-1 language code: two letters such as fr (for BE: fr)", l)
		}
	}
}

func knownSectors() string {
	var parts []string
	for _, s := range rules.Sectors() {
		parts = append(parts, s.Name+" ("+s.Title+")")
	}
	return strings.Join(parts, ", ")
}

// checkIdentities: an identity is compared exactly with the actor of a Slack request or --as,
// so an empty one, one with spaces around it, or one listed twice is a mistake; a Slack user or
// group is an actor of its workspace, slack:<team>/<id>.
func (c *Config) checkIdentities(add addFunc, field string, ids []string) {
	first := map[string]int{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		trimmed := strings.TrimSpace(id)
		switch {
		case trimmed == "":
			add(f, "empty identity; write the person's actor (slack:<team>/<user id>) or CLI name, or remove the entry")
			continue
		case trimmed != id:
			again := ""
			if j, ok := first[trimmed]; ok {
				again = fmt.Sprintf(" (it is already %s[%d]: remove this entry)", field, j)
			}
			add(f, "%q has spaces around it and would never match; write %q%s", id, trimmed, again)
		default:
			if j, ok := first[trimmed]; ok {
				add(f, "%q is listed twice (also %s[%d]); remove one", id, field, j)
			}
		}
		if _, ok := first[trimmed]; !ok {
			first[trimmed] = i
		}
		c.checkActor(add, f, trimmed)
	}
}

var (
	slackTeamID       = regexp.MustCompile(`^T[A-Z0-9]{2,31}$`)
	slackEnterpriseID = regexp.MustCompile(`^E[A-Z0-9]{2,31}$`)
	slackAppID        = regexp.MustCompile(`^A[A-Z0-9]{2,31}$`)
	// A Slack user (U…, W… on Enterprise Grid) or user group (S…) id.
	slackMemberID = regexp.MustCompile(`^[UWS][A-Z0-9]{2,31}$`)
)

// checkActor: roles name actors. A bare Slack id, as roles listed them before actors had
// sources, names no workspace: it is refused with the actor to write instead.
func (c *Config) checkActor(add addFunc, f, id string) {
	if slackMemberID.MatchString(id) {
		add(f, "%q is a bare Slack id: roles name actors with their workspace; write %s", id, c.slackActorFix(id))
		return
	}
	if !strings.Contains(id, ":") {
		return // a name at the command line (--as)
	}
	source, rest, err := incident.ParseActor(id)
	if err != nil {
		add(f, "%v", err)
		return
	}
	if source != incident.SourceSlack {
		return
	}
	team, member, _ := strings.Cut(rest, "/")
	switch {
	case !slackMemberID.MatchString(member):
		add(f, "%q: after the workspace comes a user id (U… or W…, profile → ⋮ → Copy member ID) or a user group id (S…)", id)
	case !slackTeamID.MatchString(team):
		add(f, "%q: %q is not a Slack workspace id (T…)", id, team)
	case len(c.Slack.TeamIDs) > 0 && !slices.Contains(c.Slack.TeamIDs, team):
		add(f, "%q is a member of workspace %s, which is not in slack.team_ids (%s): requests from it are refused, so this actor could never act; add the workspace there, or correct the id",
			id, team, strings.Join(c.Slack.TeamIDs, ", "))
	}
}

// slackActorFix is the actor a bare Slack id becomes: in the one configured workspace, or in
// the one it belongs to.
func (c *Config) slackActorFix(id string) string {
	if len(c.Slack.TeamIDs) == 1 {
		return "slack:" + c.Slack.TeamIDs[0] + "/" + id
	}
	hint := " (the workspace id, T…, from slack.team_ids)"
	if len(c.Slack.TeamIDs) == 0 {
		hint = " (the workspace id, T…, is the team_id of Slack's requests; name it in slack.team_ids too)"
	}
	return "slack:<team>/" + id + hint
}

// checkSlack: the ids Slack puts in every request, compared exactly.
func (c *Config) checkSlack(add addFunc) {
	s := c.Slack
	first := map[string]int{}
	for i, t := range s.TeamIDs {
		f := fmt.Sprintf("slack.team_ids[%d]", i)
		switch {
		case !slackTeamID.MatchString(t):
			add(f, "%q is not a Slack workspace id: it starts with T (the team_id of Slack's requests; in Slack, the workspace's URL https://app.slack.com/client/T…/)", t)
		case first[t] > 0:
			add(f, "%s is listed twice (also slack.team_ids[%d]); remove one", t, first[t]-1)
		}
		first[t] = i + 1
	}
	if s.EnterpriseID != "" && !slackEnterpriseID.MatchString(s.EnterpriseID) {
		add("slack.enterprise_id", "%q is not an Enterprise Grid organisation id: it starts with E; leave enterprise_id out if the workspace is not part of one", s.EnterpriseID)
	}
	if s.AppID != "" && !slackAppID.MatchString(s.AppID) {
		add("slack.app_id", "%q is not a Slack app id: it starts with A (the app's page on api.slack.com → Basic Information → App ID)", s.AppID)
	}
	for _, hosts := range []struct {
		field string
		list  []string
	}{{"slack.response_url_hosts", s.ResponseURLHosts}, {"slack.file_hosts", s.FileHosts}} {
		for i, h := range hosts.list {
			if !validHostPattern(h) {
				add(fmt.Sprintf("%s[%d]", hosts.field, i), "%q is not a host: write a host name, host:port or *.domain, without a scheme or path (e.g. 127.0.0.1:8080 for a local Slack in tests)", h)
			}
		}
	}
}

var hostPattern = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?$`)

func validHostPattern(h string) bool { return hostPattern.MatchString(h) }

func (c *Config) checkRoutes(add addFunc, pos positions) {
	ids := rules.ObligationIDs()
	first := map[string]string{}
	for i, r := range c.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		switch {
		case strings.TrimSpace(r.Obligation) == "":
			add(f+".obligation", "missing: name the obligation this route is for, one of %s", strings.Join(ids, ", "))
		case !rules.KnownObligation(r.Obligation):
			add(f+".obligation", "unknown obligation id %q%s; the rules know %s, and gdpr-art33-authority-<authority code> for an authority the rules resolve (breach authorities lists the codes)",
				r.Obligation, didYouMean(r.Obligation, append(ids, rules.AuthorityObligationIDs()...)), strings.Join(ids, ", "))
		case first[r.Obligation] != "":
			add(f+".obligation", "a second route for %s (the first is %s, line %d); keep one", r.Obligation, first[r.Obligation], pos.line(first[r.Obligation]))
		default:
			first[r.Obligation] = f
		}
		switch r.Method {
		case "email":
			switch {
			case r.Address == "":
				add(f+".address", "method email needs the authority's address, e.g. breach-reports@authority.example; or use method portal")
			case !bmail.ValidAddress(r.Address):
				add(f+".address", "%q is not an email address the report can be sent to; %s", r.Address, addressFix(r.Address, "breach-reports@authority.example", " (the authority's name goes in name:)"))
			}
		case "portal":
		case "":
			add(f+".method", "missing: write email (the plan sends the report) or portal (a person files it and confirms with breach file)")
		default:
			add(f+".method", "unknown method %q%s; write email or portal", r.Method, didYouMean(r.Method, []string{"email", "portal"}))
		}
	}
}

// addressFix says how to write an address as one bare RFC 5322 address; nameHint says where a
// display name goes instead.
func addressFix(s, example, nameHint string) string {
	if a, err := mail.ParseAddress(s); err == nil && bmail.ValidAddress(a.Address) && a.Address != s {
		return "write the bare address " + a.Address + nameHint
	}
	return "write one bare address such as " + example
}

var webPath = regexp.MustCompile(`^(/[a-z0-9][a-z0-9._-]*)+$`)

// checkWeb: the board shows nothing without sign-in, so what it is told about sign-in must be
// able to work; and an OpenID Connect actor in the roles must be one the board can sign in.
func (c *Config) checkWeb(add addFunc) {
	w := c.Web
	if w.Path != "" && (!webPath.MatchString(w.Path) || w.Path == "/slack" || strings.HasPrefix(w.Path, "/slack/") || w.Path == "/healthz") {
		add("web.path", "%q is not a path the board can be served under: write one like /board (lower case, no trailing /, not /slack or /healthz)", w.Path)
	}
	if w.PublicURL != "" {
		if err := checkWebURL(w.PublicURL); err != "" {
			add("web.public_url", "%q %s; write the board's address as people reach it, e.g. https://breach.example.com/board", w.PublicURL, err)
		}
	}
	if w.TemporalUI != "" {
		if u, err := url.Parse(w.TemporalUI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("web.temporal_ui", "%q is not an http(s) URL; write the Temporal UI's address, e.g. https://temporal.example.com", w.TemporalUI)
		}
	}
	if w.OIDC != nil && w.Proxy != nil {
		add("web.proxy", "sign-in is configured twice: keep web.oidc (the board signs people in) or web.proxy (a reverse proxy does), not both")
	}
	if o := w.OIDC; o != nil {
		checkWebOIDC(o, w.PublicURL, add)
	}
	if p := w.Proxy; p != nil {
		checkWebProxy(p, add)
	}
	if w.SignIn() && len(w.Roles.Viewer)+len(w.Roles.DPO)+len(w.Roles.Commander) == 0 {
		add("web.roles", "nobody holds a role on the board, so nobody could see it: map claim values (groups) to viewer, dpo and commander, e.g. viewer: [executives], dpo: [privacy]; \"*\" is everyone who signs in")
	}
	if w.Actions && !w.SignIn() {
		add("web.actions", "actions need sign-in: without web.oidc or web.proxy nobody is known, and the board is read-only")
	}
	if w.Session < 0 || (w.Session > 0 && (w.Session < 5*time.Minute || w.Session > 7*24*time.Hour)) {
		add("web.session", "%s is not a usable sign-in length: give between 5m and 168h, or leave it out (8h)", w.Session)
	}
	c.checkOIDCActors(add)
}

// checkOIDCActors: a DPO or commander named as an OpenID Connect actor must be of the issuer
// the board signs people in with, or they could never act on it.
func (c *Config) checkOIDCActors(add addFunc) {
	w := c.Web
	issuer := ""
	switch {
	case w.OIDC != nil:
		issuer = w.OIDC.Issuer
	case w.Proxy != nil:
		issuer = w.Proxy.Issuer
	}
	for _, role := range []struct {
		field string
		ids   []string
	}{{"roles.dpo", c.Roles.DPO}, {"roles.commander", c.Roles.Commander}} {
		for i, id := range role.ids {
			src, rest, err := incident.ParseActor(id)
			if err != nil || src != incident.SourceOIDC {
				continue
			}
			iss, _, _ := strings.Cut(rest, "#")
			switch {
			case issuer == "":
				add(fmt.Sprintf("%s[%d]", role.field, i), "%q signs in on the board, but the board has no sign-in: configure web.oidc (or web.proxy) with issuer %s", id, iss)
			case iss != issuer:
				add(fmt.Sprintf("%s[%d]", role.field, i), "%q is a person of the provider %s, but the board signs people in with %s: they could never act; correct the actor or the issuer", id, iss, issuer)
			}
		}
	}
}

// checkWebOIDC: the board signs people in itself, so it needs the provider's https issuer,
// its client id, and the public URL the provider sends people back to.
func checkWebOIDC(o *WebOIDC, publicURL string, add addFunc) {
	if !httpsURL(o.Issuer) {
		add("web.oidc.issuer", "%q is not an https issuer URL: write the provider's issuer exactly as its discovery document gives it, e.g. https://login.example.com", o.Issuer)
	}
	if strings.TrimSpace(o.ClientID) == "" {
		add("web.oidc.client_id", "missing: give the board's client id at the provider (its redirect URI is <public_url>/auth/callback)")
	}
	if publicURL == "" {
		add("web.oidc", "the provider must send people back to the board: set web.public_url (the redirect URI is <public_url>/auth/callback)")
	}
}

// checkWebProxy: a reverse proxy signs people in, so the board needs the headers it sets, the
// issuer people are of, and the addresses whose headers it believes.
func checkWebProxy(p *WebProxy, add addFunc) {
	if !httpHeader.MatchString(p.UserHeader) {
		add("web.proxy.user_header", "%q is not a header name: give the header the proxy puts the person's subject in, e.g. X-Auth-Request-User", p.UserHeader)
	}
	if p.GroupsHeader != "" && !httpHeader.MatchString(p.GroupsHeader) {
		add("web.proxy.groups_header", "%q is not a header name, e.g. X-Auth-Request-Groups", p.GroupsHeader)
	}
	if !httpsURL(p.Issuer) {
		add("web.proxy.issuer", "%q is not an https issuer URL: name the OpenID Connect provider the proxy signs people in with (people are oidc:<issuer>#<user>)", p.Issuer)
	}
	if len(p.Trusted) == 0 {
		add("web.proxy.trusted", "missing: list the proxy's addresses (e.g. [127.0.0.1/32]); headers from anyone else are not believed")
	}
	for i, t := range p.Trusted {
		if _, err := netip.ParsePrefix(t); err != nil {
			if _, err := netip.ParseAddr(t); err != nil {
				add(fmt.Sprintf("web.proxy.trusted[%d]", i), "%q is not an IP address or CIDR prefix, e.g. 10.0.0.5 or 10.0.0.0/24", t)
			}
		}
	}
}

var httpHeader = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// checkWebURL says what is wrong with the board's public address, or "".
func checkWebURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "is not an http(s) URL"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "holds a user, query or fragment"
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		return "is http: sign-in cookies and tokens would travel in clear (http is accepted on loopback addresses only)"
	}
	return ""
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

// Drivers of subject sources, and the synonyms accepted for them.
var sourceDrivers = map[string]string{"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}

// SourceDriver is the driver a source's driver field names (postgres or mysql), "" for none.
func SourceDriver(s string) string { return sourceDrivers[strings.ToLower(strings.TrimSpace(s))] }

// SourceParams are the values a source's query may take, in params.
var SourceParams = []string{"window_from", "window_to"}

var (
	sourceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
)

// maxQueryBytes bounds a source's query file.
const maxQueryBytes = 1 << 20

// checkSubjectSources: every source can be named, has a driver breach has, names its DSN's
// environment variable (and is not the DSN itself, which is never repeated here: it may hold a
// password), a query file that can be read, and parameters breach can bind.
func (c *Config) checkSubjectSources(add addFunc, pos positions, dir string) {
	first := map[string]string{}
	for i, s := range c.SubjectSources {
		f := fmt.Sprintf("subject_sources[%d]", i)
		label := fmt.Sprintf("source %q", s.Name)
		switch {
		case s.Name == "":
			add(f+".name", "missing: name the source (letters, digits, - and _), as commands will: --subjects-sql NAME")
			label = "this source"
		case !sourceName.MatchString(s.Name):
			add(f+".name", "%q: use letters, digits, - and _ (at most 63, starting with a letter or digit)", s.Name)
		case first[s.Name] != "":
			add(f+".name", "a second source named %s (the first is %s, line %d); give each its own name", s.Name, first[s.Name], pos.line(first[s.Name]))
		default:
			first[s.Name] = f
		}
		switch {
		case strings.TrimSpace(s.Driver) == "":
			add(f+".driver", "%s: missing: write postgres (PostgreSQL) or mysql (MySQL and MariaDB)", label)
		case SourceDriver(s.Driver) == "":
			add(f+".driver", "%s: %q is not a driver breach has%s; write postgres (PostgreSQL) or mysql (MySQL and MariaDB)",
				label, s.Driver, didYouMean(strings.ToLower(s.Driver), []string{"postgres", "postgresql", "mysql", "mariadb"}))
		}
		switch {
		case s.DSNEnv == "":
			add(f+".dsn_env", "%s: missing: name the environment variable that holds the database's DSN, e.g. SHOP_DB_DSN", label)
		case strings.ContainsAny(s.DSNEnv, ":/@=? "):
			// Never repeated: it looks like a DSN, and may hold a password.
			add(f+".dsn_env", "%s: this looks like a DSN, not the name of an environment variable: keep the DSN (and its password) out of this file; put it in a variable such as SHOP_DB_DSN and name that here", label)
		case !envName.MatchString(s.DSNEnv):
			add(f+".dsn_env", "%s: %q is not an environment variable's name (letters, digits and _, not starting with a digit)", label, s.DSNEnv)
		}
		switch {
		case strings.TrimSpace(s.Query) == "":
			add(f+".query", "%s: missing: name the file of the query (relative to this file), e.g. queries/customers.sql", label)
		default:
			path := s.Query
			if !filepath.IsAbs(path) && dir != "" {
				path = filepath.Join(dir, path)
			}
			data, err := infile.ReadFile(path, maxQueryBytes)
			switch {
			case err != nil:
				add(f+".query", "%s: the query file cannot be read: %v", label, err)
			case strings.TrimSpace(string(data)) == "":
				add(f+".query", "%s: the query file %s is empty: write the SELECT that lists the affected people", label, s.Query)
			}
		}
		for j, p := range s.Params {
			if !slices.Contains(SourceParams, p) {
				add(fmt.Sprintf("%s.params[%d]", f, j), "%s: unknown parameter %q%s; a query takes %s", label, p, didYouMean(p, SourceParams), strings.Join(SourceParams, " and "))
			}
		}
		if s.Timeout < 0 || (s.Timeout > 0 && s.Timeout < time.Second) || s.Timeout > 24*time.Hour {
			add(f+".timeout", "%s: %s is not a usable statement timeout: give between 1s and 24h, or leave it out (10m)", label, s.Timeout)
		}
	}
}
