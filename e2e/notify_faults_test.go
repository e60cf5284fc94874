package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/sendgridtest"
)

// TestNotifyFaults runs an incident's customer alerts through a SendGrid that answers every
// third request with 429 and a few with 500, refuses one address with a 400, over a dataset
// with invalid, duplicate and mixed-case duplicate addresses. Every valid, distinct address is
// delivered exactly once except the refused one, which is recorded; the invalid ones are never
// sent and are counted; every request follows the contract; the history holds no personal data.
func TestNotifyFaults(t *testing.T) {
	sg := startSendGrid(t, sendgridtest.Options{}, true)
	const refused = "oliver.smith@example.co.uk"
	sg.Reject(refused)
	sg.FaultEvery(3, sendgridtest.Fault{Kind: sendgridtest.RateLimit, Wait: time.Second})
	sg.Inject(sendgridtest.Fault{Kind: sendgridtest.ServerError}, sendgridtest.Fault{}, sendgridtest.Fault{Kind: sendgridtest.ServerError})
	s := startStack(t, stackOptions{env: sg.env("0s")})

	var rows []subjectRow
	want := map[string]bool{}
	invalid, dups := 0, 0
	for _, r := range smallSubjects {
		rows = append(rows, r.row)
		switch {
		case r.dup:
			dups++
		case r.mailable:
			want[strings.ToLower(r.row.Email)] = true
		default:
			invalid++
		}
	}
	big, bigWant := bigSubjects(3000)
	for _, r := range big {
		if !strings.Contains(r.Email, "@") {
			invalid++
		}
	}
	rows = append(rows, big...)
	for a := range bigWant {
		want[a] = true
	}
	delete(want, refused)
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, csvPath, rows)

	w := s.startWorker()
	id := s.declare("--title", "Newsletter list exported by a misconfigured integration",
		"--system", "crm-api", "--subjects", csvPath, "--as", commander).IncidentID
	final := newPilot(s, id, w).until(5*time.Minute, "the incident to close", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	sg.checkContract(t)

	st := sg.Stats()
	must(t, st.Faults > 5, "only %d faults injected", st.Faults)
	must(t, st.BadRequests > 0, "the refused address never caused a 400")
	var wrong []string
	for a := range want {
		if n := sg.Deliveries(a); n != 1 {
			wrong = append(wrong, a)
		}
	}
	must(t, len(wrong) == 0, "%d valid addresses not delivered exactly once: %s", len(wrong), firstFew(wrong))
	must(t, sg.Deliveries(refused) == 0, "the refused address was delivered")
	must(t, st.Unique == len(want)+1, "%d addresses delivered, want %d and the authority", st.Unique, len(want))
	for _, r := range rows {
		if !strings.Contains(r.Email, "@") || strings.Contains(r.Email, " ") || strings.HasSuffix(r.Email, "@example") || strings.HasSuffix(r.Email, "@localhost") {
			must(t, sg.Deliveries(r.Email) == 0 || want[strings.ToLower(r.Email)], "the invalid address of %s was sent", r.ID)
		}
	}

	a := final.Alerts
	must(t, a.State == incident.AlertsDone, "alerts %s", a.State)
	must(t, a.Sent == len(want), "status: %d sent, want %d", a.Sent, len(want))
	must(t, a.Failed == 1, "status: %d failed, want the refused address", a.Failed)
	must(t, a.Invalid == invalid && a.Invalid == final.Scope.Invalid, "status: %d invalid, want %d (scope %d)", a.Invalid, invalid, final.Scope.Invalid)
	must(t, a.Duplicates == final.Scope.Duplicates && a.Duplicates >= dups, "status: %d duplicates, scope %d", a.Duplicates, final.Scope.Duplicates)
	must(t, a.Total == len(want)+1, "status: total %d, want %d", a.Total, len(want)+1)

	led := s.nfyLedger(t)
	o, err := led.Subject(context.Background(), id, s.subjectKey(id, refused))
	must(t, err == nil && o.Outcome == ledger.Rejected, "the refused address's outcome: %v %v", o.Outcome, err)
	outs := s.ledgerOutcomes(t, led, id, want)
	for addr, o := range outs {
		must(t, o.Outcome == ledger.Sent, "%s: outcome %s", s.subjectKey(id, addr), o.Outcome)
	}
	prog, err := led.Progress(context.Background(), id)
	must(t, err == nil, "ledger: %v", err)
	must(t, prog.Subjects[ledger.InvalidAddress] == invalid, "ledger: %d invalid, want %d", prog.Subjects[ledger.InvalidAddress], invalid)

	statusJSON := s.mustBreach("status", id, "--json").stdout
	var literals []string
	for _, r := range smallSubjects {
		literals = append(literals, r.row.Email, r.row.Name)
	}
	checkNoPersonalData(t, s, statusJSON, literals)
}
