package slack_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	breachslack "github.com/breachops/breach/internal/slack"
)

// The app manifest people paste declares what breach serves: the message shortcut with the
// callback id and name the code uses, and the scope its download needs.
func TestManifestMatchesTheIngress(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "slack-app-manifest.yaml"))
	require.NoError(t, err)
	var m struct {
		Features struct {
			Shortcuts []struct {
				Name        string `yaml:"name"`
				Type        string `yaml:"type"`
				CallbackID  string `yaml:"callback_id"`
				Description string `yaml:"description"`
			} `yaml:"shortcuts"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &m))
	require.Len(t, m.Features.Shortcuts, 1)
	sc := m.Features.Shortcuts[0]
	assert.Equal(t, "message", sc.Type)
	assert.Equal(t, breachslack.ShortcutUseDataset, sc.CallbackID)
	assert.Equal(t, breachslack.ShortcutName, sc.Name, "the forms and replies name the shortcut as Slack shows it")
	assert.NotEmpty(t, sc.Description)
	assert.True(t, slices.Contains(m.OAuth.Scopes.Bot, "files:read"), "downloading a shared file needs files:read")
}
