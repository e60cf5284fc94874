package e2e

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/register"
)

const unlikelyReasoning = "The laptop's disk was encrypted (BitLocker, key escrowed, not on the device); the data is unintelligible to the finder."

// The breach register end to end, as a DPO uses it, on a real dev server: an incident is in the
// register from its declaration; one decided "unlikely to result in a risk" shows its reasoning
// and no obligations; one notified shows its obligations with due and filed times and
// references; the CSV export has one row per incident; a correction keeps both versions; an
// entry edited by hand makes verify fail and name it. Once with the register in files, once in
// PostgreSQL (a schema of its own).
func TestRegister(t *testing.T) {
	t.Run("files", func(t *testing.T) {
		s := startStack(t, stackOptions{})
		runRegister(t, s, true)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := registerSchema(t)
		s := startStack(t, stackOptions{env: []string{"BREACH_REGISTER_DSN=" + dsn}})
		runRegister(t, s, false)
	})
}

func runRegister(t *testing.T, s *stack, tamperFiles bool) {
	w := s.startWorker()
	csvPath := filepath.Join(s.dir, "subjects.csv")
	var rows []subjectRow
	for _, r := range smallSubjects {
		rows = append(rows, r.row)
	}
	writeSubjects(t, csvPath, rows)
	awareAt := time.Now().Add(-3 * time.Hour).Truncate(time.Second)

	low := s.declare("--title", "Encrypted laptop lost on a train", "--description", "A support laptop was left on a train.",
		"--system", "shop-db", "--subjects", csvPath, "--aware-at", awareAt.Format(time.RFC3339), "--key", "e2e-register-low", "--as", commander).IncidentID
	lowPilot := newPilot(s, low, w)
	lowPilot.idle(2*time.Minute, "the decision to be pending", func(st incident.Status) bool {
		return slices.Contains(pendingSteps(st), incident.UpdateDecide)
	})
	// In the register from its declaration, before anyone decided.
	waitFor(t, time.Minute, "the declared incident in the register", func() (bool, string) {
		e, ok := registerEntry(t, s, low)
		return ok && e.Effective.Status == register.StatusOpen, fmt.Sprintf("%+v", e.Effective.Status)
	})
	s.mustBreach("decide", low, "--risk", "unlikely", "--reasoning", unlikelyReasoning,
		"--measures", "Device wiped remotely; the user's access keys rotated.", "--as", dpo)
	lowPilot.until(3*time.Minute, "the unlikely incident to close", func(st incident.Status) bool { return st.Phase == incident.PhaseClosed })

	high := s.declare("--title", "Customer database exposed", "--system", "shop-db", "--system", "crm-api",
		"--subjects", csvPath, "--aware-at", awareAt.Format(time.RFC3339), "--key", "e2e-register-high", "--as", commander).IncidentID
	newPilot(s, high, w).until(4*time.Minute, "the notified incident to close", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})

	checkUnlikelyEntry(t, s, low)
	checkNotifiedEntry(t, s, high)
	checkRegisterList(t, s, low, high)
	checkCSVExport(t, s, low, high, awareAt.Year())
	checkCorrection(t, s, low)
	s.mustBreach("register", "verify")
	if tamperFiles {
		checkTamperedFileFails(t, s, low)
	}
	s.checkNoTaskFailed(w)
}

// registerSchema makes a schema of its own in the machine's PostgreSQL for one test and returns
// a DSN that uses it; it is dropped when the test ends.
func registerSchema(t *testing.T) string {
	t.Helper()
	var errs []string
	for _, base := range []string{
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres://root@127.0.0.1:5432/test?sslmode=disable",
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
	} {
		db, err := sql.Open("pgx", base)
		if err == nil {
			err = db.Ping()
		}
		if err != nil {
			errs = append(errs, err.Error())
			if db != nil {
				db.Close()
			}
			continue
		}
		schema := fmt.Sprintf("e2e_register_%d_%d", os.Getpid(), time.Now().UnixNano())
		if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
			db.Close()
			t.Fatalf("create schema %s: %v", schema, err)
		}
		t.Cleanup(func() {
			if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
			db.Close()
		})
		return base + "&search_path=" + schema
	}
	t.Fatalf("no PostgreSQL answers at 127.0.0.1:5432 (the register's PostgreSQL store is tested for real): %s", strings.Join(errs, "; "))
	return ""
}

type shownEntry struct {
	register.Entry
	SHA256    string           `json:"sha256"`
	Effective register.Content `json:"effective"`
}

// registerEntry reads the incident's latest version with `breach register list --drills --json`.
func registerEntry(t *testing.T, s *stack, id string) (shownEntry, bool) {
	t.Helper()
	r := s.mustBreach("register", "list", "--drills", "--json")
	var entries []shownEntry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatalf("register list --json printed no list: %v\n%s", err, r.stdout)
	}
	for _, e := range entries {
		if e.IncidentID == id {
			return e, true
		}
	}
	return shownEntry{}, false
}

// registerVersions reads every version with `breach register show ID --json`.
func registerVersions(t *testing.T, s *stack, id string) []shownEntry {
	t.Helper()
	r := s.mustBreach("register", "show", id, "--json")
	var doc struct {
		IncidentID string       `json:"incident_id"`
		Versions   []shownEntry `json:"versions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.IncidentID != id {
		t.Fatalf("register show --json: %v\n%s", err, r.stdout)
	}
	return doc.Versions
}

func checkUnlikelyEntry(t *testing.T, s *stack, id string) {
	t.Helper()
	versions := registerVersions(t, s, id)
	require.GreaterOrEqual(t, len(versions), 3, "declared, decided and closed are versions of their own")
	require.Equal(t, register.StatusOpen, versions[0].Effective.Status, "the first version is the declaration")
	require.Equal(t, "declared", versions[0].Change)
	last := versions[len(versions)-1].Effective
	require.Equal(t, register.StatusNotNotified, last.Status)
	require.Equal(t, "unlikely", last.Decision.Risk)
	require.Equal(t, unlikelyReasoning, last.Decision.Reasoning)
	require.Equal(t, "cli:"+dpo, last.Decision.SignedBy, "the register names who signed the decision")
	require.Empty(t, last.Obligations)
	require.NotEmpty(t, last.NotRequired, "the register says why nothing was notified")
	require.False(t, last.ClosedAt.IsZero())
	require.Equal(t, "Device wiped remotely; the user's access keys rotated.", last.Measures)
	require.NotNil(t, last.Scope)
	require.Positive(t, last.Scope.Subjects)
	evidence := map[string]bool{}
	for _, e := range last.Evidence {
		require.Len(t, e.SHA256, 64, e.What)
		evidence[e.What] = true
	}
	require.True(t, evidence["dataset"] && evidence["post-incident-report"] && evidence["timeline"], "evidence hashes: %+v", last.Evidence)
	for i, v := range versions {
		require.Equal(t, i+1, v.Version)
	}

	text := s.mustBreach("register", "show", id).stdout
	t.Logf("breach register show %s:\n%s", id, text)
	require.Contains(t, text, "Reasoning: "+unlikelyReasoning)
	require.Contains(t, text, "None: the law required no notification.")
	require.NotContains(t, strings.ToLower(text), "lea.weber", "the register holds no personal data of a subject")
}

func checkNotifiedEntry(t *testing.T, s *stack, id string) {
	t.Helper()
	e, ok := registerEntry(t, s, id)
	require.True(t, ok, "the notified incident is in the register")
	c := e.Effective
	require.Equal(t, register.StatusNotified, c.Status)
	require.Equal(t, "high", c.Decision.Risk)
	byID := map[string]register.Obligation{}
	for _, o := range c.Obligations {
		byID[o.ID] = o
		require.Equal(t, register.ObligationFiled, o.State, o.ID)
		require.False(t, o.DueAt.IsZero(), o.ID)
		require.False(t, o.FiledAt.IsZero(), o.ID)
		require.NotEmpty(t, o.Reference, o.ID)
	}
	require.Contains(t, byID, "gdpr-art33-authority")
	require.Contains(t, byID, "uk-gdpr-art33-ico")
	require.Equal(t, "E2E-REF-uk-gdpr-art33-ico", byID["uk-gdpr-art33-ico"].Reference, "the portal filing's reference")
	require.Equal(t, "cli:"+dpo, byID["uk-gdpr-art33-ico"].FiledBy)
	require.NotNil(t, c.Notices)
	require.Equal(t, incident.AlertsDone, c.Notices.State)
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	for _, r := range smallSubjects {
		if r.row.Email != "" {
			require.NotContains(t, strings.ToLower(string(raw)), strings.ToLower(r.row.Email), "the register holds no address")
		}
	}
}

func checkRegisterList(t *testing.T, s *stack, low, high string) {
	t.Helper()
	out := s.mustBreach("register", "list").stdout
	t.Logf("breach register list:\n%s", out)
	require.Contains(t, out, low)
	require.Contains(t, out, high)
	out = s.mustBreach("register", "list", "--status", "not-notified").stdout
	require.Contains(t, out, low)
	require.NotContains(t, out, high)
	r := s.breach("register", "list", "--status", "maybe")
	require.Equal(t, 2, r.code, "%s", r)
	require.Contains(t, r.stderr, "not-notified", "the error lists the statuses")
}

func checkCSVExport(t *testing.T, s *stack, low, high string, year int) {
	t.Helper()
	out := s.mustBreach("register", "export", "--format", "csv", "--year", fmt.Sprint(year)).stdout
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err, "the CSV export is RFC 4180")
	require.Len(t, rows, 3, "a header and one row per incident")
	col := map[string]int{}
	for i, n := range rows[0] {
		col[n] = i
	}
	got := map[string][]string{}
	for _, row := range rows[1:] {
		require.Len(t, row, len(rows[0]))
		got[row[col["incident_id"]]] = row
	}
	require.Equal(t, register.StatusNotNotified, got[low][col["status"]])
	require.Equal(t, unlikelyReasoning, got[low][col["reasoning"]])
	require.Equal(t, "none", got[low][col["obligations"]])
	require.Contains(t, got[high][col["obligations"]], "reference E2E-REF-uk-gdpr-art33-ico")

	out = s.mustBreach("register", "export", "--format", "csv", "--year", fmt.Sprint(year-5)).stdout
	rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1, "another year has no incident: the header only")

	md := filepath.Join(s.dir, "register.md")
	s.mustBreach("register", "export", "--format", "md", "--output", md)
	text := readFile(t, md)
	require.Contains(t, text, "## "+low)
	require.Contains(t, text, "### Decision and reasoning")
}

func checkCorrection(t *testing.T, s *stack, id string) {
	t.Helper()
	before := registerVersions(t, s, id)
	r := s.breach("register", "correct", id, "--field", "measures", "--value", "x", "--reason", "y", "--as", commander)
	require.Equal(t, 2, r.code, "only a DPO corrects the register: %s", r)
	corrected := "Device wiped remotely; the user's access keys and VPN certificate rotated."
	s.mustBreach("register", "correct", id, "--field", "measures", "--value", corrected,
		"--reason", "the VPN certificate was rotated too and had been left out", "--as", dpo)
	after := registerVersions(t, s, id)
	require.Len(t, after, len(before)+1, "a correction is a new version")
	require.Equal(t, "Device wiped remotely; the user's access keys rotated.", after[len(after)-2].Effective.Measures, "the old version keeps the old text")
	require.Equal(t, corrected, after[len(after)-1].Effective.Measures)
	k := after[len(after)-1].Corrections
	require.Len(t, k, 1)
	require.Equal(t, "cli:"+dpo, k[0].By)
	require.NotNil(t, k[0].Signature, "the correction is signed with the DPO's key")
	require.Equal(t, "cli:"+dpo, k[0].Signature.Signer)
	text := s.mustBreach("register", "show", id).stdout
	require.Contains(t, text, `remedial_action: "Device wiped remotely; the user's access keys rotated." -> "`+corrected+`"`)
}

// checkTamperedFileFails edits the decided version's reasoning by hand: verify exits 1 and
// names the file.
func checkTamperedFileFails(t *testing.T, s *stack, id string) {
	t.Helper()
	versions := registerVersions(t, s, id)
	var seq int64
	for _, v := range versions {
		if v.Effective.Decision != nil {
			seq = v.Seq
			break
		}
	}
	require.NotZero(t, seq)
	dir := filepath.Join(s.home, "register", "entries")
	path := filepath.Join(dir, fmt.Sprintf("%012d_%s_v%d.json", seq, id, seqVersion(versions, seq)))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	edited := bytes.Replace(data, []byte("unintelligible to the finder"), []byte("probably unreadable"), 1)
	require.NotEqual(t, data, edited)
	require.NoError(t, os.WriteFile(path, edited, 0o640))
	r := s.breach("register", "verify")
	require.Equal(t, 1, r.code, "verify passed an entry edited by hand:\n%s", r)
	require.Contains(t, r.stdout, path, "verify names the edited entry")
	require.Contains(t, r.stdout, "was changed")
}

func seqVersion(versions []shownEntry, seq int64) int {
	for _, v := range versions {
		if v.Seq == seq {
			return v.Version
		}
	}
	return 0
}
