package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/internal/keys"
	"github.com/breachops/breach/internal/register"
)

// executeOut runs the command line and returns what it printed and its exit code.
func executeOut(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(args)
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		out.WriteString("error: " + err.Error())
		return out.String(), exitCode(err)
	}
	return out.String(), 0
}

// The register commands work on the store alone, with the exit codes of the rest of the
// command line: 0, 1 for a failure (verify finds a change, an unknown incident), 2 for bad input.
func TestRegisterCommandsWithoutTemporal(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	t.Setenv("TEMPORAL_ADDRESS", unusedAddress(t))
	t.Setenv("BREACH_HOME", home)
	t.Setenv("BREACH_REGISTER_DSN", "")
	t.Setenv("BREACH_LEDGER_DSN", "")
	cfg := filepath.Join(dir, "breach.yaml")
	writeTestFile(t, cfg, strings.Replace(badConfig, "[retail]", "[]", 1))
	t.Setenv("BREACH_CONFIG", cfg)
	_, _, err := keys.Create(home, "cli:dana")
	require.NoError(t, err)

	// An incident closed before the register kept versions: its closing record.
	const id = "INC-20261128-7F3A"
	rec := activities.IncidentRecord{IncidentID: id, Title: "Laptop lost", DeclaredBy: "cli:ian", Source: "cli",
		AwareAt: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC), Systems: []string{"laptop"},
		Decision: &activities.Decision{By: "cli:dana", Risk: "unlikely", Reasoning: "encrypted disk", Measures: "wiped"},
		ClosedAt: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC), ClosedBy: "cli:ian"}
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(home, "register"), 0o750))
	writeTestFile(t, filepath.Join(home, "register", id+".json"), string(b))

	out, code := executeOut(t, "register", "import")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 incidents imported")
	out, code = executeOut(t, "register", "import")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "0 incidents imported", "importing twice adds nothing")

	out, code = executeOut(t, "register", "list")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, id)
	require.Contains(t, out, register.StatusNotNotified)

	out, code = executeOut(t, "register", "export", "--format", "csv", "--year", "2026")
	require.Equal(t, 0, code, out)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)

	for _, bad := range [][]string{
		{"register", "list", "--status", "maybe"},
		{"register", "list", "--year", "2026", "--from", "2026-01-01"},
		{"register", "list", "--from", "yesterday"},
		{"register", "export", "--format", "xlsx"},
		{"register", "show", "not-an-id"},
		{"register", "correct", id, "--field", "risk", "--value", "high", "--reason", "r", "--as", "dana"},
		{"register", "correct", id, "--field", "measures", "--value", "x", "--as", "dana"},
		{"register", "correct", id, "--field", "measures", "--value", "x", "--reason", "r", "--as", "ian"},
	} {
		out, code := executeOut(t, bad...)
		require.Equal(t, 2, code, "%v: %s", bad, out)
	}
	out, code = executeOut(t, "register", "show", "INC-20261128-0000")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "not in the register")

	out, code = executeOut(t, "register", "correct", id, "--field", "measures", "--value", "wiped and reported to the police",
		"--reason", "the police report was left out", "--as", "dana")
	require.Equal(t, 0, code, out)
	out, code = executeOut(t, "register", "show", id)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `remedial_action: "wiped" -> "wiped and reported to the police"`)
	require.Contains(t, out, "signed with key ")

	out, code = executeOut(t, "register", "verify")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "register intact: 2 entries of 1 incidents")

	files, err := filepath.Glob(filepath.Join(home, "register", "entries", "*_v1.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.NoError(t, os.Remove(files[0]))
	out, code = executeOut(t, "register", "verify")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "entry 1 is missing")
	out, code = executeOut(t, "register", "export", "--format", "md")
	require.Equal(t, 1, code, "an export of a register that fails verification says so: %s", out)
	require.Contains(t, out, "FAILED verification")
}
