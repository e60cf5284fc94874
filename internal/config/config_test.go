package config_test

import (
	"os"
	"path/filepath"
	"testing"

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
  sectors: [retail]
  dpo_contact: "Dana Schmidt, dpo@example-shop.test"
  mail_from: privacy@example-shop.test
  subject_contact: privacy@example-shop.test
roles:
  dpo: [dana]
  commander: [ian, ida]
routes:
  - obligation: gdpr-art33-authority
    method: email
    address: reports@authority.example
    name: Berlin Commissioner
  - obligation: us-ca-ag
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
		Sectors:        []string{"retail"},
		DPOContact:     "Dana Schmidt, dpo@example-shop.test",
		MailFrom:       "privacy@example-shop.test",
		SubjectContact: "privacy@example-shop.test",
	}, c.Organisation)
	assert.Equal(t, config.Roles{DPO: []string{"dana"}, Commander: []string{"ian", "ida"}}, c.Roles)
	assert.Equal(t, []config.Route{
		{Obligation: "gdpr-art33-authority", Method: "email", Address: "reports@authority.example", Name: "Berlin Commissioner"},
		{Obligation: "us-ca-ag", Method: "portal"},
	}, c.Routes)
	assert.Equal(t, filepath.Join(filepath.Dir(path), "inventory", "systems.yaml"), c.Inventory)
	assert.Equal(t, home, c.Home)
	assert.Equal(t, path, c.Path)
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

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		errHas  []string
	}{
		{
			name:    "unknown top-level field",
			content: "inventroy: systems.yaml\n",
			errHas:  []string{"inventroy"},
		},
		{
			name:    "unknown nested field",
			content: "organisation:\n  name: X\n  dpo_contcat: someone\n",
			errHas:  []string{"dpo_contcat"},
		},
		{
			name:    "bad timezone",
			content: "organisation:\n  timezone: Mars/Olympus_Mons\n",
			errHas:  []string{"organisation.timezone", "Mars/Olympus_Mons"},
		},
		{
			name:    "bad role",
			content: "organisation:\n  role: owner\n",
			errHas:  []string{"organisation.role", `"owner"`, "controller or processor"},
		},
		{
			name:    "email route without address",
			content: "routes:\n  - obligation: gdpr-art33-authority\n    method: portal\n  - obligation: uk-ico\n    method: email\n",
			errHas:  []string{"routes[1]", "uk-ico", "needs an address"},
		},
		{
			name:    "unknown route method",
			content: "routes:\n  - obligation: uk-ico\n    method: fax\n",
			errHas:  []string{"routes[0]", `"fax"`, "email or portal"},
		},
		{
			name:    "not YAML",
			content: "organisation: [unclosed\n",
			errHas:  []string{"configuration"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			c, err := config.Load(path)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), path)
			for _, s := range tt.errHas {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := config.Load(path)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), path)
}
