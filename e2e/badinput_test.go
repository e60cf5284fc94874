package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bad input to the real binary, against a running server: files that are not regular files or
// are over their limit, and ids that are paths. Each is one clear line on stderr and exit code
// 2, and nothing starts: no workflow of any kind, nothing printed as started.
func TestBadInputStartsNothing(t *testing.T) {
	s := startStack(t, stackOptions{})
	fifo := filepath.Join(s.dir, "subjects.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	linkToFIFO := filepath.Join(s.dir, "subjects-link.csv")
	require.NoError(t, os.Symlink(fifo, linkToFIFO))
	huge := filepath.Join(s.dir, "facts.json")
	writeFile(t, huge, `{"aware_at": "2026-06-10T10:00:00+02:00"}`)
	require.NoError(t, os.Truncate(huge, 3<<30)) // sparse: 3 GiB over the 1 MiB cap, taking no space
	hugeConfig := filepath.Join(s.dir, "huge.yaml")
	writeFile(t, hugeConfig, configYAML())
	require.NoError(t, os.Truncate(hugeConfig, 2<<20))
	scenarioFIFO := filepath.Join(s.dir, "scenario.yaml")
	writeFile(t, scenarioFIFO, "title: Pipe\nsystems: [shop-db]\nsubjects: subjects.fifo\n")

	declare := []string{"declare", "--title", "Backup exposed", "--system", "shop-db", "--as", commander, "--subjects"}
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"a directory as the dataset", append(declare, s.dir), s.dir + " is a directory, not a regular file"},
		{"a device as the dataset", append(declare, "/dev/zero"), "/dev/zero is a character device, not a regular file"},
		{"a named pipe as the dataset", append(declare, fifo), "is a named pipe (FIFO), not a regular file"},
		{"a link to a named pipe as the dataset", append(declare, linkToFIFO), "is a named pipe (FIFO), not a regular file"},
		{"a device as the facts", []string{"obligations", "--facts", "/dev/zero"}, "/dev/zero is a character device"},
		{"facts over the cap", []string{"obligations", "--facts", huge}, "is larger than 1 MiB"},
		{"a configuration over the cap", []string{"--config", hugeConfig, "declare", "--title", "t", "--system", "shop-db"}, "is larger than 1 MiB"},
		{"a scenario whose dataset is a named pipe", []string{"drill", "run", "--scenario", scenarioFIFO}, "is a named pipe (FIFO)"},
		{"a path as the incident of status", []string{"status", "../../x"}, `"../../x" is not an incident ID`},
		{"a path as the drill of drill report", []string{"drill", "report", "../../x"}, `"../../x" is not an incident ID`},
		{"a path as the incident of a decision", []string{"decide", "../../x", "--risk", "high", "--reasoning", "r", "--as", dpo}, `"../../x" is not an incident ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.breach(tt.args...)
			require.Equal(t, 2, r.code, "want exit 2\n%s", r)
			line := strings.TrimSuffix(r.stderr, "\n")
			require.NotContains(t, line, "\n", "want one line on stderr\n%s", r)
			require.True(t, strings.HasPrefix(line, "breach: "), "%s", r)
			require.Contains(t, line, tt.says)
			require.Empty(t, r.stdout, "nothing is printed as started")
		})
	}
	require.Empty(t, s.workflowIDs(), "bad input started a workflow")
	_, err := os.Stat(filepath.Join(s.home, "drills"))
	require.True(t, os.IsNotExist(err), "a drill left files in BREACH_HOME")
}
