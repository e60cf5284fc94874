package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTimeLeft(t *testing.T) {
	cases := map[time.Duration]string{
		72 * time.Hour:                      "3d 00h",
		49*time.Hour + 59*time.Minute:       "2d 01h",
		5*time.Hour + 30*time.Minute + 59e9: "5h 30m",
		12 * time.Minute:                    "12m",
		0:                                   "0m",
		-3 * time.Hour:                      "OVERDUE 3h 00m",
		-(26 * time.Hour):                   "OVERDUE 1d 02h",
	}
	for d, want := range cases {
		if got := TimeLeft(d); got != want {
			t.Errorf("TimeLeft(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	res, err := Evaluate(build(ms(est("DE"), subj("FR", 10, "US-TX", 300))))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, res, ts("2026-06-13T07:00:00Z")); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "4 obligations, nearest deadline first (time left as of 2026-06-13 07:00 UTC)") {
		t.Errorf("header: %q", lines[0])
	}
	// Nearest first: the GDPR 72 hours (1h left), then Texas AG, then Texas individuals.
	order := []string{"gdpr-art33-authority", "gdpr-art34-subjects", "us-tx-attorney-general", "us-tx-individuals", fmt.Sprintf("Not required (%d)", len(ObligationIDs())-4)}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		if i <= last {
			t.Errorf("%q out of order in\n%s", s, out)
		}
		last = i
	}
	if !strings.Contains(out, "2026-06-13 08:00:00  1h 00m") {
		t.Errorf("GDPR row should show 1h left:\n%s", out)
	}
	if !strings.Contains(out, "The law lets law enforcement delay: us-tx-individuals.\n") || strings.Contains(out, "How the competent") {
		t.Errorf("law-enforcement line missing, or a resolution shown where none happened:\n%s", out)
	}
	if !strings.Contains(out, "us-ca-residents") || !strings.Contains(out, "not in scope: no affected subjects resident in US-CA") {
		t.Errorf("ruled-out obligations missing:\n%s", out)
	}
}

// Resolved authorities show with their reasoning, statutory limits beside the deadline.
func TestWriteTableShowsAuthoritiesAndBothLimits(t *testing.T) {
	res, err := Evaluate(build(ms(est("DE"), regions("DE-BE"), subj("DE", 10, "US-NY", 3))))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, res, ts("2026-06-10T09:00:00Z")); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"LEFT     STATUTORY LIMIT (UTC)  OBLIGATION",
		// New York: day 30 is 9 July, the statutory limit 10 July (Eastern).
		"2026-07-10 03:59:59  29d 18h  2026-07-11 03:59:59    us-ny-residents",
		"statutory limit: N.Y. Gen. Constr. Law §§20, 25-a (first day excluded;",
		"gdpr-art33-authority-de-be  Berliner Beauftragte für Datenschutz (BlnBDI): competent supervisory authority (Art. 55(1)",
		"How the competent authorities were determined (AUTHORITIES.md):\n\ngdpr-art33-authority-de-be: Berliner Beauftragte für Datenschutz (BlnBDI)\n  1. controller",
		"  7. Member States whose residents are affected: DE",
		"The law lets law enforcement delay: us-ny-residents.",
		"\ngdpr-art33-authority    resolved to the competent authorities",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// The JSON is exactly {"obligations":[…],"not_required":[{"id":…,"reason":…}],"rulebook":…},
// instants in UTC.
func TestResultJSONShape(t *testing.T) {
	res, err := Evaluate(build(ms(subj("FR", 1))))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var shape struct {
		Rulebook string `json:"rulebook"`
	}
	if err := json.Unmarshal(data, &shape); err != nil || shape.Rulebook != Version {
		t.Fatalf("rulebook %q, want %q (%v)", shape.Rulebook, Version, err)
	}
	var top map[string][]map[string]any
	if err := json.Unmarshal(bytes.Replace(data, []byte(`"`+Version+`"`), []byte("[]"), 1), &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 3 || top["obligations"] == nil || top["not_required"] == nil {
		t.Fatalf("top-level keys: %s", data)
	}
	// subjects appears when the obligation covers only some jurisdictions (here: GDPR without an
	// EEA establishment covers EEA residents).
	wantKeys := "audience basis clock_start due_at id kind regime rule subjects template trigger"
	for _, o := range top["obligations"] {
		if got := keys(o); got != wantKeys {
			t.Errorf("obligation keys %q, want %q", got, wantKeys)
		}
		if got := fmt.Sprint(o["subjects"]); got != "[EEA]" {
			t.Errorf("subjects = %s, want [EEA]", got)
		}
	}
	if got := top["obligations"][0]["due_at"]; got != "2026-06-13T08:00:00Z" {
		t.Errorf("due_at = %v", got)
	}
	for _, n := range top["not_required"] {
		if got := keys(n); got != "id reason" {
			t.Errorf("not_required keys %q", got)
		}
	}
	// An empty result still has both arrays, never null.
	empty, _ := json.Marshal(Result{Obligations: []Obligation{}, NotRequired: []NotRequired{}})
	if string(empty) != `{"obligations":[],"not_required":[]}` {
		t.Errorf("empty result: %s", empty)
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, " ")
}
