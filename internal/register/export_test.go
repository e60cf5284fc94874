package register

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The CSV export opens in a spreadsheet: RFC 4180 as encoding/csv reads it, a header, one row
// per incident (its latest version), every row as wide as the header.
func TestCSVExportHasOneRowPerIncident(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *Register, _ tamperer) {
		ctx := context.Background()
		mustRecord(t, r, declared(incA))
		mustRecord(t, r, unlikely(incA))
		tricky := declared(incB)
		tricky.Title = "=HYPERLINK(\"http://evil.example\",\"click\")"
		tricky.Description = "Line one, with a comma;\nline two with \"quotes\"."
		mustRecord(t, r, tricky)
		mustRecord(t, r, notified(incC))
		drill := declared("INC-20261128-00000000000000D1")
		drill.Drill = true
		mustRecord(t, r, drill)

		latest, err := r.Latest(ctx)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, WriteCSV(&buf, Filter{}.Select(latest)))
		require.Contains(t, buf.String(), "\r\n", "RFC 4180 lines end in CRLF")
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 1+3, "a header and one row per incident; the drill is left out")
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		for _, name := range []string{"incident_id", "status", "facts", "effects", "remedial_action", "risk", "reasoning",
			"obligations", "late_filings", "evidence", "entry_sha256"} {
			require.Contains(t, col, name)
		}
		byID := map[string][]string{}
		for _, row := range rows[1:] {
			byID[row[col["incident_id"]]] = row
		}
		a := byID[incA]
		require.Equal(t, StatusNotNotified, a[col["status"]])
		require.Equal(t, "none", a[col["obligations"]])
		require.Contains(t, a[col["reasoning"]], "nobody downloaded it")
		require.Equal(t, "2", a[col["version"]])
		require.Equal(t, "gdpr-art33-authority: unlikely to result in a risk (Art. 33(1)) | 1 more not in scope (no establishment, affected resident or sector there)",
			a[col["not_required"]], "the reasons the facts decided, and how many regimes do not apply at all")

		b := byID[incB]
		require.True(t, strings.HasPrefix(b[col["title"]], "'="), "a formula is not a formula in the export: %q", b[col["title"]])
		require.Equal(t, tricky.Description, b[col["facts"]])

		c := byID[incC]
		require.Equal(t, StatusNotified, c[col["status"]])
		require.Contains(t, c[col["obligations"]], "gdpr-art33-authority")
		require.Contains(t, c[col["obligations"]], "reference DPA-2026-0042")
		require.Contains(t, c[col["obligations"]], "due 2026-12-01T08:10:00Z")
		require.Contains(t, c[col["late_filings"]], "The authority's portal was down for a day.")
		require.Contains(t, c[col["evidence"]], "sha256:abab")

		buf.Reset()
		require.NoError(t, WriteCSV(&buf, Filter{Drills: true}.Select(latest)))
		rows, err = csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 1+4, "--drills adds the drill")
	})
}

func TestFilterByYearAndStatus(t *testing.T) {
	old := declared(incA)
	old.AwareAt = time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)
	entries := []Entry{{Content: normalise(old)}, {Content: normalise(unlikely(incB))}, {Content: normalise(notified(incC))}}
	from, to := Year(2026)
	require.Len(t, Filter{From: from, To: to}.Select(entries), 2)
	require.Len(t, Filter{Statuses: []string{StatusOpen}}.Select(entries), 1)
	require.Len(t, Filter{Statuses: []string{StatusNotified, StatusNotNotified}}.Select(entries), 2)
}

func TestJSONAndMarkdownExports(t *testing.T) {
	r, _ := stores()[0].open(t)
	mustRecord(t, r, notified(incC))
	latest, err := r.Latest(context.Background())
	require.NoError(t, err)
	var buf bytes.Buffer
	rep := mustVerify(t, r)
	require.NoError(t, WriteJSON(&buf, MetaOf(rep, time.Now()), latest))
	var doc struct {
		Intact    bool   `json:"intact"`
		Head      string `json:"head"`
		Incidents []struct {
			IncidentID string  `json:"incident_id"`
			SHA256     string  `json:"sha256"`
			Effective  Content `json:"effective"`
		} `json:"incidents"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	require.Len(t, doc.Incidents, 1)
	require.True(t, doc.Intact)
	require.Equal(t, latest[0].Hash, doc.Head)
	require.Equal(t, incC, doc.Incidents[0].IncidentID)
	require.Equal(t, latest[0].Hash, doc.Incidents[0].SHA256)
	require.Len(t, doc.Incidents[0].Effective.Obligations, 2)

	buf.Reset()
	require.NoError(t, WriteMarkdown(&buf, MetaOf(rep, time.Now()), latest))
	md := buf.String()
	for _, want := range []string{"## " + incC, "### Facts", "### Effects", "### Remedial action", "### Decision and reasoning",
		"### Obligations", "### Late filings", "verified intact", "The authority's portal was down for a day.", "### Evidence (SHA-256)"} {
		require.Contains(t, md, want)
	}
}
