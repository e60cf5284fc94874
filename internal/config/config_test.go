package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/config"
)

// writeConfig writes content to <dir>/conf/breach.yaml and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "conf")
	require.NoError(t, os.MkdirAll(dir, 0o750))
	path := filepath.Join(dir, "breach.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestLoadValidFile(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	home := filepath.Join(t.TempDir(), "records")
	path := writeConfig(t, `
organisation:
  name: Example Shop GmbH
  timezone: Europe/Berlin
  role: processor
  establishments: [de, fr]
  sectors: [nis2-important]
  dpo_contact: "Dana Schmidt, dpo@example-shop.test"
  mail_from: privacy@example-shop.test
  subject_contact: privacy@example-shop.test
roles:
  dpo: [dana, slack:T0BREACH1/U0DANA001]
  commander: [ian, ida]
slack:
  team_ids: [T0BREACH1]
  app_id: A0BREACH1
routes:
  - obligation: gdpr-art33-authority
    method: email
    address: reports@authority.example
    name: Berlin Commissioner
  - obligation: us-ca-attorney-general
    method: portal
inventory: inventory/systems.yaml
home: `+home+`
`)
	c, err := config.Load(path)
	require.NoError(t, err)

	assert.Equal(t, config.Organisation{
		Name:           "Example Shop GmbH",
		Timezone:       "Europe/Berlin",
		Role:           "processor",
		Establishments: []string{"DE", "FR"},
		Sectors:        []string{"nis2-important"},
		DPOContact:     "Dana Schmidt, dpo@example-shop.test",
		MailFrom:       "privacy@example-shop.test",
		SubjectContact: "privacy@example-shop.test",
	}, c.Organisation)
	assert.Equal(t, config.Roles{DPO: []string{"cli:dana", "slack:T0BREACH1/U0DANA001"}, Commander: []string{"cli:ian", "cli:ida"}}, c.Roles)
	assert.Equal(t, config.Slack{TeamIDs: []string{"T0BREACH1"}, AppID: "A0BREACH1"}, c.Slack)
	assert.Equal(t, []config.Route{
		{Obligation: "gdpr-art33-authority", Method: "email", Address: "reports@authority.example", Name: "Berlin Commissioner"},
		{Obligation: "us-ca-attorney-general", Method: "portal"},
	}, c.Routes)
	assert.Equal(t, filepath.Join(filepath.Dir(path), "inventory", "systems.yaml"), c.Inventory)
	assert.Equal(t, home, c.Home)
	assert.Equal(t, path, c.Path)
}

func TestLoadBoardSignIn(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	c, err := config.Load(writeConfig(t, `
roles:
  dpo: [dana, "oidc:https://login.example.com#248289761001"]
signing:
  web: "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
web:
  public_url: https://breach.example.com/board
  temporal_ui: https://temporal.example.com
  oidc:
    issuer: https://login.example.com
    client_id: breach-board
  roles:
    viewer: [executives, legal]
    dpo: [privacy]
  actions: true
`))
	require.NoError(t, err)
	assert.Equal(t, "/board", c.Web.Path)
	assert.Equal(t, 8*time.Hour, c.Web.Session)
	require.NotNil(t, c.Web.OIDC)
	assert.Equal(t, "groups", c.Web.OIDC.RolesClaim)
	assert.Equal(t, []string{"profile", "email"}, c.Web.OIDC.Scopes)
	assert.Equal(t, []string{"privacy"}, c.Web.Roles.DPO)
	assert.True(t, c.Web.SignIn())
	assert.True(t, c.Web.Actions)
	assert.Equal(t, "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", c.Signing.Web)
}

func TestLoadKeepsAbsoluteInventory(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	inv := filepath.Join(t.TempDir(), "systems.yaml")
	c, err := config.Load(writeConfig(t, "inventory: "+inv+"\n"))
	require.NoError(t, err)
	assert.Equal(t, inv, c.Inventory)
}

func TestLoadRelativeHomeIsMadeAbsolute(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	wd, err := os.Getwd()
	require.NoError(t, err)
	c, err := config.Load(writeConfig(t, "home: records\n"))
	require.NoError(t, err)
	// Home, like the default "var", is relative to the working directory, not to the file.
	assert.Equal(t, filepath.Join(wd, "records"), c.Home)
	assert.True(t, filepath.IsAbs(c.Home))
}

func TestLoadBreachHomeOverridesTheFile(t *testing.T) {
	env := filepath.Join(t.TempDir(), "from-env")
	t.Setenv("BREACH_HOME", env)
	c, err := config.Load(writeConfig(t, "home: /somewhere/else\n"))
	require.NoError(t, err)
	assert.Equal(t, env, c.Home)

	c, err = config.Load("")
	require.NoError(t, err)
	assert.Equal(t, env, c.Home)
}

func TestLoadPartialFileKeepsDefaults(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	c, err := config.Load(writeConfig(t, "organisation:\n  name: Tiny Ltd\n"))
	require.NoError(t, err)
	d := config.Default()
	assert.Equal(t, "Tiny Ltd", c.Organisation.Name)
	assert.Equal(t, "UTC", c.Organisation.Timezone)
	assert.Equal(t, "controller", c.Organisation.Role)
	assert.Equal(t, d.Organisation.DPOContact, c.Organisation.DPOContact)
	assert.Equal(t, d.Organisation.MailFrom, c.Organisation.MailFrom)
}

func TestLoadEmptyFileGivesDefaults(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	wd, err := os.Getwd()
	require.NoError(t, err)
	for name, content := range map[string]string{"empty": "", "only comments": "# nothing configured yet\n"} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, content)
			c, err := config.Load(path)
			require.NoError(t, err)
			want := config.Default()
			want.Home = filepath.Join(wd, "var")
			want.Datasets.Dir = filepath.Join(wd, "var", "datasets")
			want.Path = path
			assert.Equal(t, want, c)
		})
	}
}

func TestLoadNoPathGivesDefaults(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	wd, err := os.Getwd()
	require.NoError(t, err)
	c, err := config.Load("")
	require.NoError(t, err)
	want := config.Default()
	want.Home = filepath.Join(wd, "var")
	want.Datasets.Dir = filepath.Join(wd, "var", "datasets")
	assert.Equal(t, want, c)
}

func TestLoadExample(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	path := filepath.Join("..", "..", "examples", "breach.yaml")
	c, err := config.Load(path)
	require.NoError(t, err)
	assert.Equal(t, "Example Shop GmbH", c.Organisation.Name)
	assert.Equal(t, filepath.Join("..", "..", "examples", "systems.yaml"), c.Inventory)
	_, err = os.Stat(c.Inventory)
	assert.NoError(t, err)
}

// Every problem names the file, the line and the field, says what is wrong and how to fix it.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		line    int
		field   string
		errHas  []string
	}{
		// The layout.
		{"unknown top-level field", "home: var\ninventroy: systems.yaml\n", 2, "inventroy",
			[]string{`unknown field "inventroy" (did you mean inventory?)`, "the top-level fields are organisation, roles, routes, inventory, home, containment"}},
		{"unknown organisation field", "organisation:\n  name: X\n  dpo_contcat: someone\n", 3, "organisation.dpo_contcat",
			[]string{"did you mean dpo_contact?", "the fields of organisation are name, timezone"}},
		{"unknown route field", "routes:\n  - obligation: gdpr-art33-authority\n    method: portal\n    adress: x@y.example\n", 4, "routes[0].adress",
			[]string{"did you mean address?", "the fields of routes are obligation, method, address, name"}},
		{"a single identity where a list is wanted", "roles:\n  commander: [ian]\n  dpo: dana\n", 3, "roles.dpo",
			[]string{`expected a list, e.g. [dana], got "dana"`}},
		{"a list where a mapping is wanted", "home: var\norganisation:\n  - name: X\n", 3, "organisation",
			[]string{"expected a mapping (name, timezone", "got a list"}},
		{"routes as a mapping", "routes:\n  obligation: gdpr-art33-authority\n", 2, "routes",
			[]string{"expected a list of mappings (obligation, method, address, name), got a mapping"}},
		{"a field given twice", "organisation:\n  name: A\n  timezone: UTC\n  name: B\n", 4, "organisation.name",
			[]string{"given twice", "keep one"}},
		// yaml.v3 gives the line where the unclosed list's enclosing block starts, at most one early.
		{"not YAML", "home: var\norganisation: [unclosed\n", 1, "",
			[]string{"not YAML at or after this line", "did not find expected ',' or ']'"}},
		{"tab indentation", "home: var\norganisation:\n\tname: X\n", 3, "",
			[]string{"not YAML at or after this line", "tab"}},

		// The organisation, against the rules' vocabulary.
		{"unknown sector", "organisation:\n  name: Shop\n  sectors: [nis2-important, retail]\n", 3, "organisation.sectors[1]",
			[]string{`unknown sector "retail"`, "health-covered-entity (a HIPAA covered entity", "nis2-essential", "nis2-important", "us-listed", "or none"}},
		{"misspelt sector", "organisation:\n  sectors:\n    - us-listed\n    - nis2-esential\n", 4, "organisation.sectors[1]",
			[]string{"did you mean nis2-essential?"}},
		{"unknown jurisdiction", "organisation:\n  establishments: [DE, XX]\n", 2, "organisation.establishments[1]",
			[]string{`"XX" is not a jurisdiction`, "ISO 3166-1 alpha-2"}},
		{"UK for GB", "organisation:\n  establishments:\n    - uk\n", 3, "organisation.establishments[0]",
			[]string{`"uk"`, "use GB"}},
		{"EU is not a country", "organisation:\n  establishments: [EU]\n", 2, "organisation.establishments[0]",
			[]string{"member state code such as DE"}},
		{"unknown role", "organisation:\n  role: owner\n", 2, "organisation.role",
			[]string{`unknown role "owner"`, "controller or processor"}},
		{"misspelt role", "organisation:\n  name: X\n  role: proccessor\n", 3, "organisation.role",
			[]string{"did you mean processor?"}},
		{"unknown time zone", "organisation:\n  timezone: Mars/Olympus_Mons\n", 2, "organisation.timezone",
			[]string{`"Mars/Olympus_Mons"`, "IANA name such as Europe/Berlin"}},
		{"Local time zone", "organisation:\n  name: X\n  timezone: Local\n", 3, "organisation.timezone",
			[]string{"Local is this machine's zone", "IANA name"}},
		{"sender not an address", "organisation:\n  mail_from: privacy\n", 2, "organisation.mail_from",
			[]string{`"privacy" is not an email address`, "privacy@example.com"}},
		{"sender with a display name", "organisation:\n  mail_from: Privacy Team <privacy@shop.example>\n", 2, "organisation.mail_from",
			[]string{"write the bare address privacy@shop.example"}},

		// Where the organisation is established: what the competent GDPR authority follows from.
		{"a German establishment without its Land", "organisation:\n  establishments: [DE]\n  main_establishment: DE\n", 2, "organisation.establishments",
			[]string{"supervised by the authority of its Land (BDSG §40(1))", "establishment_regions, e.g. DE-BE"}},
		{"several Member States without a main establishment", "organisation:\n  establishments: [DE, FR]\n  establishment_regions: [de-be]\n", 2, "organisation.establishments",
			[]string{"several Member States (DE, FR)", "name the main establishment"}},
		{"a region outside the establishments", "organisation:\n  establishments: [FR]\n  establishment_regions:\n    - DE-BE\n", 4, "organisation.establishment_regions[0]",
			[]string{"DE-BE lies in DE, which is not one of establishments (FR)", "add DE to establishments"}},
		{"a region the rules do not route by", "organisation:\n  establishments: [FR]\n  establishment_regions: [FR-IDF]\n", 3, "organisation.establishment_regions[0]",
			[]string{"only in DE, ES, CA and US"}},
		{"a main establishment that is no establishment", "organisation:\n  name: X\n  establishments: [FR]\n  main_establishment: IE\n", 4, "organisation.main_establishment",
			[]string{"IE is in the EEA but not one of establishments (FR)"}},

		// The authority directory's overrides.
		{"an authority with a display name as address", "authorities:\n  - code: DE-BE\n    email: \"BlnBDI <meldung@datenschutz-berlin.example>\"\n", 3, "authorities[0].email",
			[]string{"not an email address reports can be sent to", "write the bare address meldung@datenschutz-berlin.example"}},
		{"a new authority without a name", "authorities:\n  - code: DE\n    country: DE\n    email: meldung@ldi.example\n", 2, "authorities[0].name",
			[]string{"a new entry (DE is not in the directory) needs the authority's name"}},
		{"an authority moved to another country", "authorities:\n  - code: FR\n    country: BE\n", 3, "authorities[0].country",
			[]string{"FR is an authority of FR", "add a new code instead"}},
		{"an authority portal without https", "authorities:\n  - code: FR\n    portal: http://notifications.cnil.example\n", 3, "authorities[0].portal",
			[]string{"https://"}},
		{"an authority language that is not a code", "authorities:\n  - code: FR\n    languages: [fr, English]\n", 3, "authorities[0].languages[1]",
			[]string{"ISO 639-1"}},
		{"an authority changed twice", "authorities:\n  - code: FR\n    email: a@cnil.example\n  - code: FR\n    portal: https://x.example\n", 4, "authorities[1].code",
			[]string{"FR is changed twice (the first is authorities[0], line 2)"}},
		{"an unknown authority field", "authorities:\n  - code: FR\n    fax: 123\n", 3, "authorities[0].fax",
			[]string{"the fields of authorities are code, name, short, country, region, channel, portal, email, phone, languages, notes"}},

		// Languages.
		{"a report language that is not a code", "languages:\n  reports: [de, German]\n", 2, "languages.reports[1]",
			[]string{"ISO 639-1"}},
		{"a notice language for a place the rules do not know", "languages:\n  countries:\n    XX: fr\n", 3, "languages.countries.XX",
			[]string{"not a country or region the rules know"}},
		{"a notice language that is not a code", "languages:\n  countries:\n    BE: French\n", 3, "languages.countries.BE",
			[]string{"not an ISO 639-1 language code"}},

		// Roles.
		{"empty identity", "roles:\n  dpo: [dana, \"\"]\n", 2, "roles.dpo[1]",
			[]string{"empty identity"}},
		{"identity with spaces", "roles:\n  commander:\n    - ian\n    - \" ida\"\n", 4, "roles.commander[1]",
			[]string{`" ida" has spaces around it`, `write "ida"`}},
		{"identity twice", "roles:\n  dpo:\n    - dana\n    - lea\n    - dana\n", 5, "roles.dpo[2]",
			[]string{`"dana" is listed twice (also roles.dpo[0])`}},
		{"a bare Slack user id: the fix names the one workspace", "slack:\n  team_ids: [T0BREACH1]\nroles:\n  dpo: [U0DPO0001]\n", 4, "roles.dpo[0]",
			[]string{`"U0DPO0001" is a bare Slack id`, "write slack:T0BREACH1/U0DPO0001"}},
		{"a bare Slack user id without a workspace configured", "roles:\n  commander: [ian, W0IAN0001]\n", 2, "roles.commander[1]",
			[]string{`"W0IAN0001" is a bare Slack id`, "slack:<team>/W0IAN0001", "slack.team_ids"}},
		{"a bare user group id", "slack:\n  team_ids: [T0A, T0B]\nroles:\n  declarers:\n    - S0SECURITY\n", 5, "roles.declarers[0]",
			[]string{"bare Slack id", "slack:<team>/S0SECURITY", "from slack.team_ids"}},
		{"an actor of a workspace not served", "slack:\n  team_ids: [T0BREACH1]\nroles:\n  dpo: [slack:T0OTHER01/U0DPO0001]\n", 4, "roles.dpo[0]",
			[]string{"workspace T0OTHER01, which is not in slack.team_ids (T0BREACH1)", "could never act"}},
		{"a Slack actor naming a channel", "roles:\n  dpo: [slack:T0BREACH1/C0GENERAL]\n", 2, "roles.dpo[0]",
			[]string{"a user id (U… or W…", "user group id (S…)"}},
		{"an actor with an unknown source", "roles:\n  dpo: [github:dana]\n", 2, "roles.dpo[0]",
			[]string{`unknown source "github"`}},
		{"a malformed Slack actor", "roles:\n  dpo: [slack:U0DPO0001]\n", 2, "roles.dpo[0]",
			[]string{"slack:<team id>/<user id>"}},

		// Slack.
		{"a team id that is not one", "slack:\n  team_ids: [breach-test]\n", 2, "slack.team_ids[0]",
			[]string{`"breach-test" is not a Slack workspace id`, "starts with T"}},
		{"a team listed twice", "slack:\n  team_ids:\n    - T0BREACH1\n    - T0BREACH1\n", 4, "slack.team_ids[1]",
			[]string{"listed twice (also slack.team_ids[0])"}},
		{"an enterprise id that is not one", "slack:\n  team_ids: [T0BREACH1]\n  enterprise_id: T0BREACH1\n", 3, "slack.enterprise_id",
			[]string{"starts with E"}},
		{"an app id that is not one", "slack:\n  app_id: breach\n", 2, "slack.app_id",
			[]string{"starts with A", "Basic Information"}},
		{"a response URL host with a scheme", "slack:\n  response_url_hosts: [\"https://hooks.example.com/x\"]\n", 2, "slack.response_url_hosts[0]",
			[]string{"without a scheme or path"}},
		{"a file host with a path", "slack:\n  file_hosts: [\"127.0.0.1:8080\", \"files.example.com/files-pri\"]\n", 2, "slack.file_hosts[1]",
			[]string{`"files.example.com/files-pri" is not a host`, "without a scheme or path"}},
		{"identity twice, once with spaces", "roles:\n  dpo:\n    - dana\n    - \"dana \"\n", 4, "roles.dpo[1]",
			[]string{`write "dana"`, "already roles.dpo[0]: remove this entry"}},

		// The board.
		{"a board path with a trailing slash", "web:\n  path: /board/\n", 2, "web.path",
			[]string{`"/board/" is not a path`, "like /board"}},
		{"a board under the Slack paths", "web:\n  path: /slack/board\n", 2, "web.path",
			[]string{"not /slack"}},
		{"a public URL over http elsewhere than loopback", "web:\n  public_url: http://breach.example.com/board\n", 2, "web.public_url",
			[]string{"would travel in clear", "loopback"}},
		{"an OpenID provider over http", "web:\n  public_url: https://b.example.com/board\n  roles: {viewer: [\"*\"]}\n  oidc:\n    issuer: http://login.example.com\n    client_id: breach\n", 5, "web.oidc.issuer",
			[]string{"not an https issuer URL"}},
		{"an OpenID provider without a client", "web:\n  public_url: https://b.example.com/board\n  roles: {viewer: [\"*\"]}\n  oidc:\n    issuer: https://login.example.com\n", 4, "web.oidc.client_id",
			[]string{"missing", "/auth/callback"}},
		{"an OpenID provider without the board's address", "web:\n  roles: {viewer: [\"*\"]}\n  oidc:\n    issuer: https://login.example.com\n    client_id: breach\n", 3, "web.oidc",
			[]string{"set web.public_url"}},
		{"sign-in twice", "web:\n  public_url: https://b.example.com/board\n  roles: {viewer: [\"*\"]}\n  oidc:\n    issuer: https://login.example.com\n    client_id: breach\n  proxy:\n    user_header: X-User\n    issuer: https://login.example.com\n    trusted: [127.0.0.1]\n", 7, "web.proxy",
			[]string{"configured twice"}},
		{"a proxy trusted from a name", "web:\n  roles: {viewer: [\"*\"]}\n  proxy:\n    user_header: X-User\n    issuer: https://login.example.com\n    trusted: [proxy.local]\n", 6, "web.proxy.trusted[0]",
			[]string{`"proxy.local" is not an IP address or CIDR prefix`}},
		{"a proxy trusted from nobody", "web:\n  roles: {viewer: [\"*\"]}\n  proxy:\n    user_header: X-User\n    issuer: https://login.example.com\n", 3, "web.proxy.trusted",
			[]string{"missing", "not believed"}},
		{"sign-in that gives nobody a role", "web:\n  public_url: https://b.example.com/board\n  oidc:\n    issuer: https://login.example.com\n    client_id: breach\n", 1, "web.roles",
			[]string{"nobody holds a role on the board"}},
		{"actions without sign-in", "web:\n  actions: true\n", 2, "web.actions",
			[]string{"actions need sign-in"}},
		{"a sign-in of a minute", "web:\n  session: 1m\n", 2, "web.session",
			[]string{"between 5m and 168h"}},
		{"a person of another provider", "web:\n  public_url: https://b.example.com/board\n  roles: {dpo: [privacy]}\n  oidc:\n    issuer: https://login.example.com\n    client_id: breach\nroles:\n  dpo: [\"oidc:https://other.example.com#dana\"]\n", 8, "roles.dpo[0]",
			[]string{"other.example.com", "could never act"}},
		{"a person of a provider without sign-in", "roles:\n  dpo: [\"oidc:https://login.example.com#dana\"]\n", 2, "roles.dpo[0]",
			[]string{"the board has no sign-in", "web.oidc"}},

		// Routes.
		{"route for an unknown obligation", "routes:\n  - obligation: gdpr-art33-authorty\n    method: portal\n", 2, "routes[0].obligation",
			[]string{`unknown obligation id "gdpr-art33-authorty" (did you mean gdpr-art33-authority?)`, "uk-gdpr-art33-ico", "br-anpd",
				"gdpr-art33-authority-<authority code>"}},
		{"route for an authority the rules cannot resolve to", "routes:\n  - obligation: gdpr-art33-authority-dee-be\n    method: portal\n", 2, "routes[0].obligation",
			[]string{`unknown obligation id "gdpr-art33-authority-dee-be" (did you mean gdpr-art33-authority-de-be?)`}},
		{"route without obligation", "routes:\n  - method: portal\n", 2, "routes[0].obligation",
			[]string{"missing", "gdpr-art33-authority"}},
		{"two routes for one obligation", "routes:\n  - obligation: br-anpd\n    method: portal\n  - obligation: br-anpd\n    method: portal\n", 4, "routes[1].obligation",
			[]string{"a second route for br-anpd (the first is routes[0], line 2)"}},
		{"route without method", "routes:\n  - obligation: br-anpd\n", 2, "routes[0].method",
			[]string{"missing", "email", "portal"}},
		{"unknown route method", "routes:\n  - obligation: uk-gdpr-art33-ico\n    method: fax\n", 3, "routes[0].method",
			[]string{`unknown method "fax"`, "write email or portal"}},
		{"misspelt route method", "routes:\n  - obligation: uk-gdpr-art33-ico\n    method: emial\n    address: ico@ico.example\n", 3, "routes[0].method",
			[]string{"did you mean email?"}},
		{"email route without address", "routes:\n  - obligation: gdpr-art33-authority\n    method: portal\n  - obligation: uk-gdpr-art33-ico\n    method: email\n", 4, "routes[1].address",
			[]string{"method email needs the authority's address", "or use method portal"}},
		{"email route with a bad address", "routes:\n  - obligation: gdpr-art33-authority\n    method: email\n    address: dpa-at-authority.example\n", 4, "routes[0].address",
			[]string{`"dpa-at-authority.example" is not an email address`}},
		{"email route with a display name", "routes:\n  - obligation: gdpr-art33-authority\n    method: email\n    address: \"Berlin DPA <dpa@authority.example>\"\n", 4, "routes[0].address",
			[]string{"write the bare address dpa@authority.example (the authority's name goes in name:)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			c, err := config.Load(path)
			require.Error(t, err)
			assert.Nil(t, c)
			var problems config.Problems
			require.ErrorAs(t, err, &problems)
			require.Len(t, problems, 1, "want exactly one problem: %v", err)
			p := problems[0]
			assert.Equal(t, path, p.File)
			assert.Equal(t, tt.line, p.Line, "line: %v", err)
			assert.Equal(t, tt.field, p.Field, "field: %v", err)
			want := fmt.Sprintf("configuration %s:%d: ", path, tt.line)
			assert.True(t, strings.HasPrefix(err.Error(), want), "%q should start with %q", err, want)
			for _, s := range tt.errHas {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// A file with several problems reports them all, in line order, one a line.
func TestLoadReportsEveryProblem(t *testing.T) {
	path := writeConfig(t, `organisation:
  name: Shop
  role: owner
  sectors: [retail]
roles:
  dpo: [""]
routes:
  - obligation: gdpr-art33-authority
    method: fax
`)
	_, err := config.Load(path)
	require.Error(t, err)
	var problems config.Problems
	require.ErrorAs(t, err, &problems)
	var got []string
	for _, p := range problems {
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Field))
	}
	assert.Equal(t, []string{"3 organisation.role", "4 organisation.sectors[0]", "6 roles.dpo[0]", "9 routes[0].method"}, got)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 5, err.Error())
	assert.Equal(t, "configuration "+path+" has 4 problems:", lines[0])
	assert.True(t, strings.HasPrefix(lines[2], "  "+path+":4: organisation.sectors[0]: unknown sector"), lines[2])
	var one *config.Error
	require.ErrorAs(t, err, &one, "each problem is a *config.Error to errors.As")
	assert.Equal(t, 3, one.Line)
}

// What the checks accept: lower-case jurisdiction codes, US states, the same person in both
// roles, a portal route with no address.
func TestLoadAcceptsTheVocabulary(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	c, err := config.Load(writeConfig(t, `organisation:
  timezone: America/New_York
  role: processor
  establishments: [us, US-NY, gb]
  sectors: [health-covered-entity, us-listed, nis2-essential, nis2-important]
roles:
  dpo: [dana]
  commander: [dana, slack:T0123ABCD/U012AB3CD, slack:T0123ABCD/W012AB3CD]
  declarers: [slack:T0123ABCD/S0SECURITY, slack:T0456EFGH/U0456EFGH]
slack:
  team_ids: [T0123ABCD, T0456EFGH]
  enterprise_id: E0123ABCD
  app_id: A0BREACH1
  response_url_hosts: ["127.0.0.1:8080", "*.slack-gov.com", "[::1]:9000"]
  file_hosts: ["127.0.0.1:8080", "files.slack-gov.com"]
routes:
  - obligation: hipaa-hhs
    method: portal
  - obligation: sec-8k-item105
    method: email
    address: edgar@sec.example
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"US", "US-NY", "GB"}, c.Organisation.Establishments)
}

// A Berlin shop says where it is established, routes its resolved authority and adds the
// address it agreed with the authority; lower-case codes are accepted.
func TestLoadEstablishmentAndAuthorities(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	c, err := config.Load(writeConfig(t, `organisation:
  establishments: [de, fr]
  establishment_regions: [de-be]
  main_establishment: de-be
routes:
  - obligation: gdpr-art33-authority-de-be
    method: email
    address: meldung@datenschutz-berlin.example
authorities:
  - code: DE-BE
    email: meldung@datenschutz-berlin.example
  - code: DE
    name: LDI NRW (chosen for residents in Germany)
    country: DE
    languages: [de]
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"DE-BE"}, c.Organisation.EstablishmentRegions)
	assert.Equal(t, "DE-BE", c.Organisation.MainEstablishment)
	overrides := c.AuthorityOverrides()
	require.Len(t, overrides, 2)
	assert.Equal(t, "meldung@datenschutz-berlin.example", overrides[0].Email)
	assert.Equal(t, []string{"de"}, overrides[1].Languages)

	// A public body needs no region for a federal authority, and a processor none at all.
	for _, org := range []string{"establishments: [DE]\n  public_task: true", "role: processor\n  establishments: [DE]\n  main_establishment: DE"} {
		_, err := config.Load(writeConfig(t, "organisation:\n  "+org+"\n"))
		assert.NoError(t, err, org)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := config.Load(path)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), path)
}

func TestLoadSubjectSources(t *testing.T) {
	t.Setenv("BREACH_HOME", "")
	path := writeConfig(t, `
subject_sources:
  - name: shop
    driver: mariadb
    dsn_env: SHOP_DB_DSN
    query: queries/customers.sql
    params: [window_from, window_to]
    timeout: 90s
  - name: crm
    driver: postgres
    dsn_env: CRM_DSN
    query: crm.sql
`)
	dir := filepath.Dir(path)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "queries"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "queries", "customers.sql"), []byte("SELECT 1"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "crm.sql"), []byte("SELECT 1"), 0o600))
	c, err := config.Load(path)
	require.NoError(t, err)
	assert.Equal(t, []config.SubjectSource{
		{Name: "shop", Driver: "mariadb", DSNEnv: "SHOP_DB_DSN", Query: filepath.Join(dir, "queries", "customers.sql"),
			Params: []string{"window_from", "window_to"}, Timeout: 90 * time.Second},
		{Name: "crm", Driver: "postgres", DSNEnv: "CRM_DSN", Query: filepath.Join(dir, "crm.sql"), Timeout: config.DefaultSourceTimeout},
	}, c.SubjectSources)
	assert.Equal(t, "mysql", config.SourceDriver(c.SubjectSources[0].Driver))
	src, ok := c.SubjectSource("crm")
	assert.True(t, ok)
	assert.Equal(t, "CRM_DSN", src.DSNEnv)
	_, ok = c.SubjectSource("nope")
	assert.False(t, ok)
	assert.Equal(t, []string{"shop", "crm"}, c.SubjectSourceNames())
}

// A source that cannot work is refused at its line, naming the source and the fix; a DSN
// written where the variable's name goes is never repeated.
func TestLoadSubjectSourceProblems(t *testing.T) {
	const dsn = "postgres://shop:hunter2-secret@db.internal:5432/shop"
	tests := []struct {
		name   string
		source string
		line   int
		field  string
		errHas []string
	}{
		{"unknown driver", "  - name: shop\n    driver: sqlserver\n    dsn_env: SHOP_DSN\n    query: q.sql\n", 4, "subject_sources[0].driver",
			[]string{`source "shop"`, `"sqlserver" is not a driver breach has`, "write postgres (PostgreSQL) or mysql (MySQL and MariaDB)"}},
		{"misspelt driver", "  - name: shop\n    driver: postgress\n    dsn_env: SHOP_DSN\n    query: q.sql\n", 4, "subject_sources[0].driver",
			[]string{"did you mean postgres?"}},
		{"no name", "  - driver: mysql\n    dsn_env: SHOP_DSN\n    query: q.sql\n", 3, "subject_sources[0].name",
			[]string{"missing", "--subjects-sql NAME"}},
		{"a DSN for the variable", "  - name: shop\n    driver: postgres\n    dsn_env: " + dsn + "\n    query: q.sql\n", 5, "subject_sources[0].dsn_env",
			[]string{"looks like a DSN", "keep the DSN (and its password) out of this file"}},
		{"no variable", "  - name: shop\n    driver: postgres\n    query: q.sql\n", 3, "subject_sources[0].dsn_env",
			[]string{"missing", "SHOP_DB_DSN"}},
		{"a query file that is not there", "  - name: shop\n    driver: postgres\n    dsn_env: SHOP_DSN\n    query: missing.sql\n", 6, "subject_sources[0].query",
			[]string{`source "shop": the query file cannot be read`, "missing.sql"}},
		{"an unknown parameter", "  - name: shop\n    driver: postgres\n    dsn_env: SHOP_DSN\n    query: q.sql\n    params: [window_start]\n", 7, "subject_sources[0].params[0]",
			[]string{`unknown parameter "window_start"`, "window_from and window_to"}},
		{"a timeout too short", "  - name: shop\n    driver: postgres\n    dsn_env: SHOP_DSN\n    query: q.sql\n    timeout: 10ms\n", 7, "subject_sources[0].timeout",
			[]string{"between 1s and 24h"}},
		{"two sources of one name", "  - name: shop\n    driver: postgres\n    dsn_env: A\n    query: q.sql\n  - name: shop\n    driver: mysql\n    dsn_env: B\n    query: q.sql\n", 7, "subject_sources[1].name",
			[]string{"a second source named shop", "line 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "home: var\nsubject_sources:\n"+tt.source)
			require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(path), "q.sql"), []byte("SELECT 1"), 0o600))
			_, err := config.Load(path)
			require.Error(t, err)
			var problems config.Problems
			require.ErrorAs(t, err, &problems)
			require.Len(t, problems, 1, "%v", err)
			assert.Equal(t, tt.line, problems[0].Line, "%v", err)
			assert.Equal(t, tt.field, problems[0].Field)
			for _, s := range tt.errHas {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}
