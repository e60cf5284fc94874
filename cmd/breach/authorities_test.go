package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachops/breach/internal/rules"
)

// runCLI executes the command line and returns what it printed.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(args)
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAuthoritiesLists(t *testing.T) {
	t.Setenv("BREACH_CONFIG", "")
	t.Setenv("BREACH_HOME", t.TempDir())
	all, err := runCLI(t, "authorities")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CODE", "DE-BE", "Berliner Beauftragte für Datenschutz (BlnBDI)", "https://datenpannen.datenschutz-berlin.de",
		"\nBE ", "fr, nl, de", "inadmissible", "CY", "el (cross-border also en)", "commissioner@dataprotection.gov.cy",
		"GB", "0303 123 1113", "CH", "no: languages", "DE-HE", "HessenDrive", "ES-CT", "public bodies in ES-CT"} {
		if !strings.Contains(all, want) {
			t.Errorf("breach authorities does not show %q", want)
		}
	}
	bavaria, err := runCLI(t, "authorities", "--country", "de-by")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bavaria, "BayLDA") || !strings.Contains(bavaria, "BayLfD") || strings.Contains(bavaria, "BlnBDI") {
		t.Errorf("--country DE-BY lists Bavaria's two authorities and no other:\n%s", bavaria)
	}
	us, err := runCLI(t, "authorities", "--country", "US")
	if err != nil || !strings.Contains(us, "No authority for US in the directory") {
		t.Errorf("--country US: %v\n%s", err, us)
	}
	_, err = runCLI(t, "authorities", "--country", "EU")
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "member state code") {
		t.Errorf("--country EU: %v, want exit 2 saying how to fix it", err)
	}
}

// --json is the directory with the configuration's changes, and what the configuration set.
func TestAuthoritiesJSONWithConfiguration(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "breach.yaml")
	writeTestFile(t, conf, `authorities:
  - code: DE-BE
    email: meldung@datenschutz-berlin.example
  - code: DE
    name: LDI NRW (chosen for residents in Germany)
    country: DE
`)
	t.Setenv("BREACH_HOME", filepath.Join(dir, "home"))
	out, err := runCLI(t, "--config", conf, "authorities", "--country", "DE", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Authorities []rules.Authority `json:"authorities"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	byCode := map[string]rules.Authority{}
	for _, a := range got.Authorities {
		byCode[a.Code] = a
		if a.Country != "DE" {
			t.Errorf("--country DE listed %s of %s", a.Code, a.Country)
		}
	}
	if len(got.Authorities) != 19 {
		t.Errorf("%d German entries, want the 16 Länder, the BayLfD, the BfDI and the added DE", len(got.Authorities))
	}
	if be := byCode["DE-BE"]; be.Email != "meldung@datenschutz-berlin.example" || strings.Join(be.Configured, ",") != "email" || !be.Verified {
		t.Errorf("DE-BE = %+v", be)
	}
	if de := byCode["DE"]; de.Name != "LDI NRW (chosen for residents in Germany)" || de.Verified {
		t.Errorf("DE = %+v", de)
	}
	text, err := runCLI(t, "--config", conf, "authorities", "--country", "DE-BE")
	if err != nil || !strings.Contains(text, "set by the configuration: email") {
		t.Errorf("the text does not say what the configuration set: %v\n%s", err, text)
	}
}

// breach obligations --facts shows the resolved authorities, how they were determined, and both
// limits.
func TestObligationsShowResolvedAuthoritiesAndBothLimits(t *testing.T) {
	dir := t.TempDir()
	facts := filepath.Join(dir, "facts.json")
	writeTestFile(t, facts, `{"aware_at": "2026-06-10T10:00:00+02:00", "timezone": "Europe/Berlin",
  "establishments": ["US"], "main_establishment": "US",
  "subjects_by_jurisdiction": {"DE": 300, "FR": 200, "IT": 100, "ES": 50, "NL": 25, "US-NY": 10}, "risk": "high"}`)
	t.Setenv("BREACH_CONFIG", "")
	out, err := runCLI(t, "obligations", "--facts", facts, "--now", "2026-06-10T09:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"STATUTORY LIMIT (UTC)", "gdpr-art33-authority-de ", "gdpr-art33-authority-es", "gdpr-art33-authority-fr",
		"gdpr-art33-authority-it", "gdpr-art33-authority-nl", "Commission nationale de l'informatique et des libertés (CNIL): supervisory authority of France (FR)",
		"How the competent authorities were determined", "3. no establishment in the EEA (Art. 3(2))",
		"2026-07-10 03:59:59  29d 18h  2026-07-11 03:59:59", "The law lets law enforcement delay: us-ny-residents.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("obligations does not show %q:\n%s", want, out)
		}
	}
	js, err := runCLI(t, "obligations", "--facts", facts, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res rules.Result
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range res.Obligations {
		if strings.HasPrefix(o.ID, "gdpr-art33-authority-") {
			n++
			if o.Authority == nil || len(o.Reasoning) == 0 {
				t.Errorf("%s: no authority or reasoning in the JSON", o.ID)
			}
		}
		if o.ID == "us-ny-residents" && (o.StatutoryLimit.IsZero() || !o.LawEnforcementDelay) {
			t.Errorf("us-ny-residents in JSON: %+v", o)
		}
	}
	if n != 5 {
		t.Errorf("%d authority obligations, want one per Member State with residents (5)", n)
	}
}
