// Package config reads the organisation's breach configuration: who holds which role, where
// reports go, which adapters to use. Temporal connection settings are not here: they come from
// the SDK's envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/internal/rules"
)

// Config is the content of breach.yaml.
type Config struct {
	Organisation Organisation `yaml:"organisation"`
	Roles        Roles        `yaml:"roles"`
	// Routes say how each obligation's report reaches its authority.
	Routes []Route `yaml:"routes"`
	// Inventory is the path of the systems inventory (YAML), relative to this file.
	Inventory string `yaml:"inventory"`
	// Home is where local records live (reports, outbox, register, dev server database).
	Home string `yaml:"home"`
	// Containment adjusts how isolation is ended.
	Containment Containment `yaml:"containment"`
	// Datasets is the store of affected-subjects datasets.
	Datasets Datasets `yaml:"datasets"`
	// SubjectSources are databases the affected people are read from where they live (breach
	// declare … --subjects-sql NAME): the scope phase runs the query and snapshots its result
	// into the dataset store.
	SubjectSources []SubjectSource `yaml:"subject_sources"`
	// Reminders says how reminders of a manual isolation back off.
	Reminders Reminders `yaml:"reminders"`
	// Workflows tunes the workflows of new incidents.
	Workflows Workflows `yaml:"workflows"`
	// Signing names the public keys that vouch for the actors' decisions.
	Signing Signing `yaml:"signing"`
	// Slack names the one Slack app and the workspaces `breach serve` acts for.
	Slack Slack `yaml:"slack"`
	// Web configures the deadline board: who may sign in, and what they may do.
	Web Web `yaml:"web"`
	// Authorities change entries of the rules' authority directory (an address, a portal agreed
	// with the authority) or add entries (the German Land authority chosen for residents in
	// Germany, code DE), without editing code.
	Authorities []Authority `yaml:"authorities"`
	// Languages choose the languages of reports and notices (each authority's accepted
	// languages come from the directory, or from authorities: languages).
	Languages Languages `yaml:"languages"`

	// Path is the file the configuration was read from ("" for defaults).
	Path string `yaml:"-"`
}

// Organisation describes the controller.
type Organisation struct {
	Name           string   `yaml:"name"`
	Timezone       string   `yaml:"timezone"`
	Role           string   `yaml:"role"`
	Establishments []string `yaml:"establishments"`
	// EstablishmentRegions, MainEstablishment and PublicTask let the rules determine the
	// competent GDPR authority (the Land of a German establishment, DE-BE; where decisions on
	// the processing are taken; a public body). Without them the GDPR report goes to the one
	// authority obligation gdpr-art33-authority, routed by routes:.
	EstablishmentRegions []string `yaml:"establishment_regions"`
	MainEstablishment    string   `yaml:"main_establishment"`
	PublicTask           bool     `yaml:"public_task"`
	Sectors              []string `yaml:"sectors"`
	DPOContact           string   `yaml:"dpo_contact"`
	MailFrom             string   `yaml:"mail_from"`
	SubjectContact       string   `yaml:"subject_contact"`
}

// Roles lists the actors holding each role: slack:<team>/<user> (or a user group,
// slack:<team>/<S…>, whose members hold it), or a name at the command line.
type Roles struct {
	DPO       []string `yaml:"dpo"`
	Commander []string `yaml:"commander"`
	// Declarers may declare an incident from Slack; empty: every member of the workspaces in
	// slack.team_ids.
	Declarers []string `yaml:"declarers"`
}

// Slack names what `breach serve` acts for: requests from any other workspace, Enterprise Grid
// organisation or app are refused before they are read further.
type Slack struct {
	// TeamIDs are the workspaces (T…) whose members may use /breach; serve needs one.
	TeamIDs []string `yaml:"team_ids"`
	// EnterpriseID is the Enterprise Grid organisation (E…) the workspaces belong to, if any.
	EnterpriseID string `yaml:"enterprise_id"`
	// AppID is the breach app (A…, Basic Information → App ID); serve needs it.
	AppID string `yaml:"app_id"`
	// ResponseURLHosts are more hosts response URLs may point at, besides Slack's (for a local
	// Slack in tests: 127.0.0.1:PORT). Leave it out in production.
	ResponseURLHosts []string `yaml:"response_url_hosts"`
	// FileHosts are more hosts breach serve downloads shared files from with the bot token,
	// besides Slack's files.slack.com (for a local Slack in tests). Leave it out in production.
	FileHosts []string `yaml:"file_hosts"`
}

// Containment adjusts how isolation is ended.
type Containment struct {
	// ReleaseOnClose lifts every automated isolation when the incident closes; systems
	// isolated by hand are left to people, with a message asking them to lift it.
	ReleaseOnClose bool `yaml:"release_on_close"`
}

// Reminders is how the reminders of a manual isolation back off: every Every at first, at
// least hourly once SlowAfter has passed, once a day after DailyAfter. Zero: 15m, 1h, 168h.
type Reminders struct {
	Every      time.Duration `yaml:"every"`
	SlowAfter  time.Duration `yaml:"slow_after"`
	DailyAfter time.Duration `yaml:"daily_after"`
}

// Workflows tunes the workflows of new incidents.
type Workflows struct {
	// EventBudget is the history length at which an incident and its children continue as new
	// (default 8,000; Temporal's own limit is 51,200). Lower it only to test.
	EventBudget int `yaml:"event_budget"`
}

// Datasets is where the affected-subjects datasets live: the command line adds files there and
// the worker reads them from there, never from a path a person gives.
type Datasets struct {
	// Dir is the store's directory, relative to this file; default <home>/datasets.
	Dir string `yaml:"dir"`
	// MaxBytes bounds one dataset; default 4 GiB (a 10 million row export is about 1.5 GB).
	MaxBytes int64 `yaml:"max_bytes"`
}

// SubjectSource is a SQL query that lists the affected people. It runs in a read-only
// transaction with a statement timeout; its result columns are named after the fields of a
// subjects dataset (id, email, name, country, state, data_categories, or the aliases a CSV
// header may use), by `AS` where the table names them otherwise.
type SubjectSource struct {
	// Name is how commands name the source: --subjects-sql NAME.
	Name string `yaml:"name"`
	// Driver is postgres (PostgreSQL) or mysql (MySQL and MariaDB; mariadb is a synonym).
	Driver string `yaml:"driver"`
	// DSNEnv names the environment variable that holds the data source name, password included
	// (postgres://user:password@host:5432/db, or user:password@tcp(host:3306)/db for mysql):
	// the DSN itself is never in this file. The commands that declare and every worker need it.
	DSNEnv string `yaml:"dsn_env"`
	// Query is the file of the query, relative to this file.
	Query string `yaml:"query"`
	// Params are the values bound to the query's placeholders, in order ($1, $2… for
	// PostgreSQL, ? for MySQL): window_from and window_to, the incident's time window
	// (--window-from and --window-to; window_to is the moment of declaration unless given).
	Params []string `yaml:"params"`
	// Timeout is the statement timeout, the longest the query may run, rows streamed included;
	// default 10m.
	Timeout time.Duration `yaml:"timeout"`
}

// SubjectSource returns the source of that name.
func (c *Config) SubjectSource(name string) (SubjectSource, bool) {
	for _, s := range c.SubjectSources {
		if s.Name == name {
			return s, true
		}
	}
	return SubjectSource{}, false
}

// SubjectSourceNames lists the sources' names.
func (c *Config) SubjectSourceNames() []string {
	var out []string
	for _, s := range c.SubjectSources {
		out = append(out, s.Name)
	}
	return out
}

// Signing names the public keys an incident trusts, fixed when it is declared: each decision
// (Update) carries a signature that the incident verifies against them.
type Signing struct {
	// Keys maps each cli: actor of the roles to its public key (ed25519:<base64>, as
	// `breach keys init --as NAME` prints it).
	Keys map[string]string `yaml:"keys"`
	// SlackIngress is the public key of the Slack ingress, which signs for Slack users.
	SlackIngress string `yaml:"slack_ingress"`
	// Web is the public key of the web dashboard (the deadline board), which signs for the
	// people it signed in (oidc: actors).
	Web string `yaml:"web"`
	// TrustLocalKeys also trusts the public keys kept in <home>/keys: for one machine (the
	// demo, development), where the people acting and the worker share a home.
	TrustLocalKeys bool `yaml:"trust_local_keys"`
}

// Web configures the deadline board, served by `breach web` on its own address and by
// `breach serve` under Path beside the Slack ingress. No page is shown without sign-in: people
// sign in through an OpenID Connect provider (OIDC) or a reverse proxy that did (Proxy), and
// hold the board's roles through Roles. Without either, breach serve does not serve the board
// and breach web serves it only read-only on this machine (--local).
type Web struct {
	// Path is where the board is served under breach serve's address; default /board.
	Path string `yaml:"path"`
	// PublicURL is the board's address as people reach it, e.g. https://breach.example.com/board:
	// the provider sends people back to <public_url>/auth/callback. https, except on loopback.
	PublicURL string `yaml:"public_url"`
	// TemporalUI is the Temporal UI's address; an incident's page links to it there.
	TemporalUI string `yaml:"temporal_ui"`
	// OIDC signs people in through an OpenID Connect provider; their actor is
	// oidc:<issuer>#<subject>.
	OIDC *WebOIDC `yaml:"oidc"`
	// Proxy trusts the reverse proxy in front of the board to have signed people in.
	Proxy *WebProxy `yaml:"proxy"`
	// Roles maps the values of the roles claim (or groups header) to the board's roles; "*"
	// gives a role to everyone who signs in.
	Roles WebRoles `yaml:"roles"`
	// Actions lets people approve reports and record portal filings from the board, through the
	// same Updates and checks as Slack and the command line; the board signs for them with its
	// key (signing.web). Off: the board is read-only.
	Actions bool `yaml:"actions"`
	// Session is how long a sign-in lasts; default 8h.
	Session time.Duration `yaml:"session"`
}

// WebOIDC is the OpenID Connect provider people sign in with. The client secret, if the client
// has one, comes from BREACH_WEB_OIDC_CLIENT_SECRET or the file BREACH_WEB_OIDC_CLIENT_SECRET_FILE.
type WebOIDC struct {
	// Issuer is the provider's issuer URL (https); its discovery document is read from
	// <issuer>/.well-known/openid-configuration.
	Issuer string `yaml:"issuer"`
	// ClientID is the board's client at the provider.
	ClientID string `yaml:"client_id"`
	// Scopes are asked for besides openid; default profile and email.
	Scopes []string `yaml:"scopes"`
	// RolesClaim is the ID token claim whose values web.roles maps (a string or a list of
	// strings); default groups.
	RolesClaim string `yaml:"roles_claim"`
}

// WebProxy is a reverse proxy (oauth2-proxy, an identity-aware proxy) that signs people in
// with an OpenID Connect provider and passes who they are in headers. Only requests from
// Trusted addresses are believed; the proxy must remove these headers from what clients send.
type WebProxy struct {
	// UserHeader carries the person's subject at the provider, e.g. X-Auth-Request-User.
	UserHeader string `yaml:"user_header"`
	// GroupsHeader carries their groups, comma-separated, e.g. X-Auth-Request-Groups.
	GroupsHeader string `yaml:"groups_header"`
	// Issuer is the provider the proxy signs people in with (https): a person is
	// oidc:<issuer>#<user header>.
	Issuer string `yaml:"issuer"`
	// Trusted are the proxy's addresses (IP addresses or CIDR prefixes).
	Trusted []string `yaml:"trusted"`
}

// WebRoles lists, for each role of the board, the claim values (groups) that hold it. Viewers
// see the board; a dpo may also approve reports and record filings, where the incident's own
// roles name them too.
type WebRoles struct {
	Viewer    []string `yaml:"viewer"`
	DPO       []string `yaml:"dpo"`
	Commander []string `yaml:"commander"`
}

// SignIn reports whether the board has a way to sign people in.
func (w Web) SignIn() bool { return w.OIDC != nil || w.Proxy != nil }

// Route is how one obligation's report is submitted.
type Route struct {
	Obligation string `yaml:"obligation"`
	Method     string `yaml:"method"` // email | portal
	Address    string `yaml:"address"`
	Name       string `yaml:"name"`
}

// Languages choose the languages reports and notices are written in. A notice goes to each
// person in the language of their record (the dataset's language column), else in the
// language given here for their country, else in their country's first official language; a
// report in the language its authority accepts. A template with no translation in a language
// is sent in English, and the timeline says so.
type Languages struct {
	// Reports are the organisation's languages for reports, by preference: where an authority
	// accepts several (Belgium: French, Dutch, German), the first of these it accepts.
	Reports []string `yaml:"reports"`
	// Countries gives, by country (BE) or region (CA-QC), the language of notices to people
	// whose record names none, where it is not the country's first official language (BE: fr
	// for a shop writing to its Belgian customers in French).
	Countries map[string]string `yaml:"countries"`
}

// IncidentLanguages are the languages an incident is declared with: the choices above, and
// the languages the configuration gives its authorities.
func (c *Config) IncidentLanguages() *incident.Languages {
	l := &incident.Languages{Reports: slices.Clone(c.Languages.Reports)}
	if len(c.Languages.Countries) > 0 {
		l.Countries = make(map[string]string, len(c.Languages.Countries))
		for k, v := range c.Languages.Countries {
			l.Countries[strings.ToUpper(k)] = strings.ToLower(v)
		}
	}
	for _, a := range c.Authorities {
		if len(a.Languages) > 0 && a.Code != "" {
			if l.Authorities == nil {
				l.Authorities = map[string][]string{}
			}
			l.Authorities[a.Code] = slices.Clone(a.Languages)
		}
	}
	return l
}

// Authority is a change to an entry of the authority directory (its code is in `breach
// authorities`) or a new entry; only the fields given change.
type Authority struct {
	Code      string   `yaml:"code"`
	Name      string   `yaml:"name"`
	Short     string   `yaml:"short"`
	Country   string   `yaml:"country"`
	Region    string   `yaml:"region"`
	Channel   string   `yaml:"channel"`
	Portal    string   `yaml:"portal"`
	Email     string   `yaml:"email"`
	Phone     string   `yaml:"phone"`
	Languages []string `yaml:"languages"`
	Notes     string   `yaml:"notes"`
}

// AuthorityOverrides are the configuration's authorities, for rules.WithOverrides.
func (c *Config) AuthorityOverrides() []rules.AuthorityOverride {
	out := make([]rules.AuthorityOverride, 0, len(c.Authorities))
	for _, a := range c.Authorities {
		out = append(out, rules.AuthorityOverride{Code: a.Code, Name: a.Name, Short: a.Short, Country: a.Country, Region: a.Region,
			Channel: a.Channel, Portal: a.Portal, Email: a.Email, Phone: a.Phone, Languages: a.Languages, Notes: a.Notes})
	}
	return out
}

// DefaultSourceTimeout is a subject source's statement timeout when it gives none: ten minutes
// stream ten million rows with room to spare.
const DefaultSourceTimeout = 10 * time.Minute

// Default returns the configuration used when no file is given.
func Default() *Config {
	return &Config{
		Organisation: Organisation{Name: "Our organisation", Timezone: "UTC", Role: "controller",
			DPOContact: "the data protection officer", MailFrom: "privacy@localhost.localdomain"},
		Home: "var",
		Web:  Web{Path: "/board", Session: 8 * time.Hour},
	}
}

// Load reads a configuration file. An empty path means the defaults. A file that cannot work
// (a sector, role, jurisdiction or obligation the rules do not know, a bad address, a malformed
// identity) is refused with every problem, each at its line: the error is Problems.
func Load(path string) (*Config, error) {
	c := Default()
	if path == "" {
		return c, c.resolve("")
	}
	data, err := infile.ReadFile(path, infile.MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("read configuration %s: %w", path, err)
	}
	if err := c.decode(path, data); err != nil {
		return nil, err
	}
	c.Path = path
	if err := c.resolve(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return c, nil
}

// decode reads the file strictly onto c, which holds the defaults, then checks it. The file is
// read into a yaml.Node first so that every problem can name its line.
func (c *Config) decode(path string, data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Problems{syntaxProblem(path, err)}
	}
	pos := positionsOf(&root)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return decodeProblems(path, pos, err)
	}
	if p := c.check(path, pos); len(p) > 0 {
		return p
	}
	return nil
}

// resolve fills in defaults and makes paths absolute; check has already refused bad values.
func (c *Config) resolve(dir string) error {
	if c.Organisation.Timezone == "" {
		c.Organisation.Timezone = "UTC"
	}
	if c.Organisation.Role == "" {
		c.Organisation.Role = "controller"
	}
	c.Roles.DPO = actors(c.Roles.DPO)
	c.Roles.Commander = actors(c.Roles.Commander)
	for i := range c.Organisation.Establishments {
		c.Organisation.Establishments[i] = strings.ToUpper(c.Organisation.Establishments[i])
	}
	for i := range c.Organisation.EstablishmentRegions {
		c.Organisation.EstablishmentRegions[i] = strings.ToUpper(c.Organisation.EstablishmentRegions[i])
	}
	c.Organisation.MainEstablishment = strings.ToUpper(c.Organisation.MainEstablishment)
	if env := os.Getenv("BREACH_HOME"); env != "" {
		c.Home = env
	} else if c.Home == "" {
		c.Home = "var"
	}
	if c.Inventory != "" && !filepath.IsAbs(c.Inventory) && dir != "" {
		c.Inventory = filepath.Join(dir, c.Inventory)
	}
	abs, err := filepath.Abs(c.Home)
	if err != nil {
		return err
	}
	c.Home = abs
	switch {
	case c.Datasets.Dir == "":
		c.Datasets.Dir = filepath.Join(c.Home, "datasets")
	case !filepath.IsAbs(c.Datasets.Dir) && dir != "":
		c.Datasets.Dir = filepath.Join(dir, c.Datasets.Dir)
	}
	if c.Datasets.Dir, err = filepath.Abs(c.Datasets.Dir); err != nil {
		return err
	}
	for i := range c.SubjectSources {
		src := &c.SubjectSources[i]
		if !filepath.IsAbs(src.Query) && dir != "" {
			src.Query = filepath.Join(dir, src.Query)
		}
		if src.Timeout == 0 {
			src.Timeout = DefaultSourceTimeout
		}
	}
	if o := c.Web.OIDC; o != nil {
		if o.RolesClaim == "" {
			o.RolesClaim = "groups"
		}
		if len(o.Scopes) == 0 {
			o.Scopes = []string{"profile", "email"}
		}
	}
	return nil
}

// actors names bare identities as command-line actors: "dana" is cli:dana. Identities with a
// source (slack:…, cli:…, oidc:…) stay as they are.
func actors(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !strings.Contains(id, ":") {
			id = incident.CLIActor(id)
		}
		out = append(out, id)
	}
	return out
}
