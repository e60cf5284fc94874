package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
)

// usShopYAML is a US shop with no establishment in the EEA: its organisation facts let the rules
// name every authority whose residents are affected. It agreed an address with the Berlin
// authority, chosen for its German customers (no Land is determined without an establishment).
func usShopYAML() string {
	return fmt.Sprintf(`organisation:
  name: E2E Outfitters Inc.
  timezone: America/Los_Angeles
  role: controller
  establishments: [US]
  main_establishment: US
  dpo_contact: "Dana Schmidt, privacy@e2e-outfitters.test"
  mail_from: privacy@e2e-outfitters.test
roles:
  dpo: [%s]
  commander: [%s]
signing:
  trust_local_keys: true
authorities:
  - code: DE
    country: DE
    name: Berliner Beauftragte für Datenschutz und Informationsfreiheit
    email: %s
inventory: systems.yaml
`, dpo, commander, authorityAddress)
}

// On a real server: a US shop's breach touches customers in five Member States and California.
// The GDPR resolves to five authorities, each its own clock, routed by the directory and the
// configuration. The FBI asks, before the decision, to delay notifying: the California notice
// starts paused, Californians get no notice, the GDPR clocks run on and their reports are filed.
// Lifted, the California clock restarts with its deadline moved by the time paused, the
// Californians are told, and the incident closes with the delay in the register.
func TestFiveAuthoritiesAndALawEnforcementDelay(t *testing.T) {
	s := startStack(t, stackOptions{config: usShopYAML()})
	w := s.startWorker()
	csvPath := filepath.Join(s.dir, "customers.csv")
	var rows []subjectRow
	for _, c := range []string{"DE", "ES", "FR", "IT", "NL", "US-CA"} {
		rows = append(rows, subjectRow{"C-" + c, strings.ToLower(strings.ReplaceAll(c, "-", "")) + "@customers.example", "Customer " + c, c, "contact"})
	}
	writeSubjects(t, csvPath, rows)
	d := s.declare("--title", "Order database copied by an intruder", "--system", "shop-db", "--subjects", csvPath, "--as", commander)
	id := d.IncidentID
	p := newPilot(s, id, w)
	p.idle(time.Minute, "the decision to be pending", func(st incident.Status) bool { return hasPending(st, incident.UpdateDecide) })

	delay := []string{"delay", id, "--law-enforcement", "--agency", "FBI Los Angeles field office", "--by", "Special Agent J. Roe",
		"--reference", "FBI-LA-2026-0042"}
	if r := s.breach(append(delay, "--as", commander)...); r.code != 1 || !strings.Contains(r.stderr, "does not hold the dpo role") {
		t.Fatalf("a commander recording a delay: want it refused\n%s", r)
	}
	if r := s.mustBreach(append(delay, "--as", dpo)...); !strings.Contains(r.stdout, "start paused") {
		t.Errorf("the delay's answer does not say what it pauses:\n%s", r)
	}
	s.mustBreach("decide", id, "--risk", "high", "--as", dpo, "--reasoning", "Names and addresses were copied.")

	authorities := []string{"gdpr-art33-authority-de", "gdpr-art33-authority-es", "gdpr-art33-authority-fr", "gdpr-art33-authority-it", "gdpr-art33-authority-nl"}
	st := p.until(2*time.Minute, "every authority report filed and the EEA notices sent", func(st incident.Status) bool {
		for _, a := range append(authorities, "gdpr-art34-subjects") {
			if o, ok := findObligation(st, a); !ok || o.State != incident.OblFiled {
				return false
			}
		}
		return true
	})
	var ids []string
	for _, o := range st.Obligations {
		if strings.HasPrefix(o.ID, "gdpr-art33-authority") {
			ids = append(ids, o.ID)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, authorities) {
		t.Fatalf("authority obligations %v, want %v", ids, authorities)
	}
	if o := obligationOf(t, st, "gdpr-art33-authority-de"); o.Method != "email" || o.Reference == "" {
		t.Errorf("the Berlin authority's report: method %q, reference %q; want it emailed to the agreed address", o.Method, o.Reference)
	}
	if o := obligationOf(t, st, "gdpr-art33-authority-fr"); o.Method != "portal" || o.Reference != "E2E-REF-gdpr-art33-authority-fr" {
		t.Errorf("the CNIL's report: method %q, reference %q; want it filed on the portal with its own reference", o.Method, o.Reference)
	}
	ca := obligationOf(t, st, "us-ca-residents")
	if ca.Paused == nil || ca.State != incident.OblAwaitingNotices {
		t.Fatalf("us-ca-residents: %s, paused %v; want it waiting, paused", ca.State, ca.Paused)
	}
	got := notices(t, s.home, id)
	if got["usca@customers.example"] != 0 || got["fr@customers.example"] != 1 {
		t.Fatalf("notices while the delay holds: %v; want the EEA customers told and the Californian not", got)
	}
	if r := s.mustBreach("status", id); !strings.Contains(r.stdout, "PAUSED by law-enforcement delay #1") || !strings.Contains(r.stdout, "IN FORCE") {
		t.Errorf("breach status does not show the pause:\n%s", r.stdout)
	}

	s.mustBreach("delay", id, "--lift", "--note", "The FBI has what it needs.", "--as", dpo)
	st = p.until(time.Minute, "the California notice to go out and the incident to close", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	ca = obligationOf(t, st, "us-ca-residents")
	if ca.State != incident.OblFiled || ca.Paused != nil || len(ca.Pauses) != 1 || ca.RulesDueAt.IsZero() {
		t.Fatalf("us-ca-residents after the lift: %s, paused %v, pauses %v, rules due %s", ca.State, ca.Paused, ca.Pauses, ca.RulesDueAt)
	}
	if moved := ca.DueAt.Sub(ca.RulesDueAt); moved <= 0 || moved != ca.Pauses[0].To.Sub(ca.Pauses[0].From) {
		t.Errorf("us-ca-residents due %s, rules due %s: want it moved by the pause %v", ca.DueAt, ca.RulesDueAt, ca.Pauses[0])
	}
	if fr := obligationOf(t, st, "gdpr-art33-authority-fr"); len(fr.Pauses) != 0 || !fr.RulesDueAt.IsZero() {
		t.Errorf("the CNIL's clock was paused: %v", fr.Pauses)
	}
	checkNotices(t, notices(t, s.home, id), map[string]bool{"de@customers.example": true, "es@customers.example": true, "fr@customers.example": true,
		"it@customers.example": true, "nl@customers.example": true, "usca@customers.example": true})
	reg := s.mustBreach("register", "show", id, "--json").stdout
	for _, want := range []string{"law_enforcement_delays", "FBI-LA-2026-0042", "lifted_at", `"pauses"`} {
		if !strings.Contains(reg, want) {
			t.Errorf("the register entry does not hold %s", want)
		}
	}
	s.checkNoTaskFailed(w)
}
