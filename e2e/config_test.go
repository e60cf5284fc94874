package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A configuration naming a sector the rules do not know used to pass `breach declare`; every
// decision was then refused and the incident was stuck. Now the configuration is refused at
// load, with its line, and nothing starts.
func TestBadConfigurationStartsNothing(t *testing.T) {
	s := startStack(t, stackOptions{})
	bad := filepath.Join(s.dir, "bad.yaml")
	good := configYAML()
	require.Contains(t, good, "  establishments: [DE]\n")
	content := strings.Replace(good, "  establishments: [DE]\n", "  establishments: [DE]\n  sectors: [retail]\n", 1)
	writeFile(t, bad, content)
	sectorLine := strings.Count(content[:strings.Index(content, "  sectors: [retail]")], "\n") + 1
	declare := []string{"declare", "--title", "Backup bucket exposed", "--system", "shop-db", "--key", "bad-config", "--json"}

	cases := []struct {
		name string
		args []string
	}{
		{"declare", append([]string{"--config", bad}, declare...)},
		{"worker", []string{"--config", bad, "worker"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.breach(c.args...)
			require.Equal(t, 2, r.code, "want exit 2 for a bad configuration\n%s", r)
			line := strings.TrimSuffix(r.stderr, "\n")
			require.NotContains(t, line, "\n", "want one line on stderr\n%s", r)
			require.Contains(t, line, fmt.Sprintf(`breach: configuration %s:%d: organisation.sectors[0]: unknown sector "retail"`, bad, sectorLine))
			require.Contains(t, line, "health-covered-entity", "the message lists the known sectors")
			require.Empty(t, r.stdout, "nothing is printed as started")
		})
	}
	require.Empty(t, s.incidentIDs(), "a bad configuration must not start an incident")

	// The same declaration with the stack's configuration starts one: only the sector was wrong.
	d := s.declare(declare[1:]...)
	require.Equal(t, []string{d.IncidentID}, s.incidentIDs())
}
