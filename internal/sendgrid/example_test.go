package sendgrid_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/sendgrid"
	"github.com/breachops/breach/internal/sendgridtest"
)

// sendOnce is the exactly-once protocol for one batch, as an activity runs it: skip an
// accepted batch; reconcile one whose last attempt may have reached SendGrid; mark sending;
// send (splitting on a 400); record the outcome.
func sendOnce(ctx context.Context, c *sendgrid.Client, led *ledger.Ledger, b sendgrid.Batch) error {
	rec, err := led.Batch(ctx, b.IncidentID, b.Key)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return err
	}
	sent := ledger.Sent
	switch rec.State {
	case ledger.Accepted:
		return nil
	case ledger.Sending, ledger.Ambiguous:
		msgs, err := c.FindByBatchKey(ctx, b.Key)
		switch {
		case errors.Is(err, sendgrid.ErrNoEmailActivity):
			sent = ledger.PossiblyDuplicated // resend: a missed notice is worse than two
		case err != nil:
			return err
		default:
			reached := sendgrid.Reached(msgs)
			var outs []ledger.SubjectOutcome
			rest := b.Recipients[:0:0]
			for _, r := range b.Recipients {
				if _, ok := reached[mail.Normalize(r.Email)]; ok {
					outs = append(outs, ledger.SubjectOutcome{SubjectKey: r.Key, BatchKey: b.Key, Outcome: ledger.Sent})
				} else {
					rest = append(rest, r)
				}
			}
			if err := led.RecordOutcomes(ctx, b.IncidentID, outs); err != nil {
				return err
			}
			if b.Recipients = rest; len(rest) == 0 {
				return led.MarkAccepted(ctx, b.IncidentID, b.Key, "reconciled")
			}
		}
	}
	if err := led.MarkSending(ctx, b.IncidentID, b.Key); errors.Is(err, ledger.ErrAccepted) {
		return nil
	} else if err != nil {
		return err
	}
	res, sendErr := c.SendSplit(ctx, b)
	var outs []ledger.SubjectOutcome
	for _, i := range res.Accepted {
		outs = append(outs, ledger.SubjectOutcome{SubjectKey: b.Recipients[i].Key, BatchKey: b.Key, Outcome: sent})
	}
	for _, r := range res.Rejected {
		outs = append(outs, ledger.SubjectOutcome{SubjectKey: b.Recipients[r.Index].Key, BatchKey: b.Key, Outcome: ledger.Rejected})
	}
	if err := led.RecordOutcomes(ctx, b.IncidentID, outs); err != nil {
		return err
	}
	switch {
	case errors.Is(sendErr, sendgrid.ErrAmbiguous):
		return errors.Join(sendErr, led.MarkAmbiguous(ctx, b.IncidentID, b.Key, sendErr.Error()))
	case sendErr != nil:
		return errors.Join(sendErr, led.MarkFailed(ctx, b.IncidentID, b.Key, sendErr.Error()))
	}
	return led.MarkAccepted(ctx, b.IncidentID, b.Key, strings.Join(res.MessageIDs, ","))
}

// Example_exactlyOnce sends 2,500 notices with a dropped connection after acceptance, a 500
// and an address SendGrid refuses, retrying as Temporal would, and ends with every valid
// subject notified once.
func Example_exactlyOnce() {
	ctx := context.Background()
	srv, err := sendgridtest.Start("127.0.0.1:0", sendgridtest.Options{APIKey: "SG.example"})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "ledger")
	defer os.RemoveAll(dir)
	led, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		panic(err)
	}
	defer led.Close()
	client, err := sendgrid.New(sendgrid.Config{APIKey: "SG.example", Host: srv.URL})
	if err != nil {
		panic(err)
	}

	subjects := make([]sendgrid.Recipient, 2500)
	for i := range subjects {
		subjects[i] = sendgrid.Recipient{
			Key:           fmt.Sprintf("subj-%04d", i),
			Email:         fmt.Sprintf("customer%d@example.com", i),
			Substitutions: map[string]string{"-name-": fmt.Sprintf("Customer %d", i)},
		}
	}
	subjects[7].Email = "Customer3@Example.com" // a mixed-case duplicate
	subjects[9].Email = "not an address"
	srv.Reject("customer1234@example.com")
	srv.Inject(sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept}, sendgridtest.Fault{Kind: sendgridtest.ServerError})

	plan := sendgrid.Plan(subjects, 0)
	for i, rs := range plan.Batches {
		b := sendgrid.Batch{
			IncidentID: "INC-20261128-7F3A", Key: fmt.Sprintf("INC-20261128-7F3A/b-%06d", i),
			From: "privacy@example.com", Subject: "About your data", Text: "Dear -name-, ...",
			Recipients: rs,
		}
		for attempt := 1; ; attempt++ { // Temporal's retry policy, in miniature
			err := sendOnce(ctx, client, led, b)
			if err == nil {
				break
			}
			fmt.Printf("batch %d attempt %d: %v\n", i, attempt, errorKind(err))
		}
	}

	p, _ := led.Progress(ctx, "INC-20261128-7F3A")
	st := srv.Stats()
	fmt.Println("batches accepted:", p.Batches[ledger.Accepted])
	fmt.Println("sent:", p.Subjects[ledger.Sent], "rejected:", p.Subjects[ledger.Rejected])
	fmt.Println("invalid:", len(plan.Invalid), "duplicates:", len(plan.Duplicates))
	fmt.Println("delivered:", st.Delivered, "to", st.Unique, "addresses; duplicated:", st.Duplicated)
	// Output:
	// batch 0 attempt 1: ambiguous
	// batch 1 attempt 1: temporary
	// batches accepted: 3
	// sent: 2497 rejected: 1
	// invalid: 1 duplicates: 1
	// delivered: 2497 to 2497 addresses; duplicated: 0
}

func errorKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{{sendgrid.ErrAmbiguous, "ambiguous"}, {sendgrid.ErrTemporary, "temporary"}, {sendgrid.ErrRateLimited, "rate limited"}} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return err.Error()
}

// Without Email Activity an ambiguous batch is resent, and exactly its subjects are listed
// as possibly duplicated.
func TestExactlyOnceWithoutEmailActivity(t *testing.T) {
	ctx := context.Background()
	srv := sendgridtest.NewTest(t, sendgridtest.Options{NoEmailActivity: true})
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	client, err := sendgrid.New(sendgrid.Config{APIKey: "SG.example", Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	subjects := make([]sendgrid.Recipient, 30)
	for i := range subjects {
		subjects[i] = sendgrid.Recipient{Key: fmt.Sprintf("subj-%02d", i), Email: fmt.Sprintf("c%d@example.com", i)}
	}
	srv.Inject(sendgridtest.Fault{}, sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept})
	plan := sendgrid.Plan(subjects, 10)
	for i, rs := range plan.Batches {
		b := sendgrid.Batch{IncidentID: "INC-1", Key: fmt.Sprintf("INC-1/b-%d", i), From: "p@example.com", Subject: "s", Text: "t", Recipients: rs}
		for attempt := 1; ; attempt++ {
			err := sendOnce(ctx, client, led, b)
			if err == nil {
				break
			}
			if attempt == 3 {
				t.Fatalf("batch %d: %v", i, err)
			}
		}
	}
	dups, err := led.PossiblyDuplicated(ctx, "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 10; i < 20; i++ { // batch 1 took the dropped connection
		want = append(want, fmt.Sprintf("subj-%02d", i))
	}
	if !reflect.DeepEqual(dups, want) {
		t.Errorf("possibly duplicated %v, want %v", dups, want)
	}
	server := srv.Duplicates()
	if len(server) != 10 {
		t.Errorf("server duplicates %v", server)
	}
	for i := 10; i < 20; i++ {
		if server[fmt.Sprintf("c%d@example.com", i)] != 2 {
			t.Errorf("c%d delivered %d times", i, server[fmt.Sprintf("c%d@example.com", i)])
		}
	}
	if st := srv.Stats(); st.Delivered != 40 {
		t.Errorf("delivered %d", st.Delivered)
	}
}
