package workflows

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/subjects"
)

// yearHost runs an incident as its child, as a drill does: the test environment continues a
// child as new, while a root workflow's continue-as-new would end the test.
func yearHost(ctx workflow.Context, d incident.Declaration) (incident.Result, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: incident.IncidentWorkflowID(d.IncidentID)})
	var r incident.Result
	err := workflow.ExecuteChildWorkflow(cctx, IncidentWorkflow, IncidentInput{Declaration: d}).Get(ctx, &r)
	return r, err
}

const day = 24 * time.Hour

// An incident open for 400 days: a manual isolation nobody confirms, a report whose portal
// filing nobody confirms (overdue from day 3), and a supplement to the other report every
// month. Every workflow continues as new many times over; no run grows past 10,240 events;
// each escalation and reminder due is sent once across the runs; and the incident still closes
// with everything recorded.
func TestIncidentOpenForFourHundredDays(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(yearHost)
	env.RegisterWorkflow(IncidentWorkflow)
	env.RegisterWorkflow(ContainmentWorkflow)
	env.RegisterWorkflow(ObligationWorkflow)
	env.RegisterWorkflow(AlertsWorkflow)
	env.RegisterActivity(&activities.Activities{})

	var mu sync.Mutex
	var chats []incident.ChatMessage
	var sequences []int
	var written incident.IncidentRecord
	env.OnActivity(a.OpenRoom, mock.Anything, mock.Anything).Return(incident.Room{ID: "log", Name: "#inc"}, nil)
	env.OnActivity(a.PostChat, mock.Anything, mock.Anything).Return(func(_ context.Context, m incident.ChatMessage) error {
		mu.Lock()
		defer mu.Unlock()
		chats = append(chats, m)
		return nil
	})
	env.OnActivity(a.UpdateCard, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.Isolate, mock.Anything, mock.Anything).Return(incident.Evidence{},
		temporal.NewNonRetryableApplicationError("isolate shop-db via aws: unknown instance", incident.ErrTypeFirewallPermanent, nil))
	env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: subjects.Summary{
		Rows: 8, Subjects: 8, Records: 8, Mailable: 8, ByJurisdiction: map[string]int{"DE": 5, "GB": 3},
		MailableByJurisdiction: map[string]int{"DE": 5, "GB": 3}, ByCategory: map[string]int{"contact": 8}},
		Dataset: incident.DatasetRef{URI: "dataset:subjects.csv", SHA256: "abc"}}, nil)
	env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/r/draft.md"}, nil)
	env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			mu.Lock()
			defer mu.Unlock()
			if in.Obligation.ID == "gdpr-art33-authority" {
				sequences = append(sequences, in.Sequence)
			}
			return incident.Submission{Path: "/r/x.md", MessageID: "m", At: in.SubmittedAt}, nil
		})
	env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(
		func(_ context.Context, rec incident.IncidentRecord) (incident.CloseOutput, error) {
			written = rec
			return incident.CloseOutput{Register: "/reg.json"}, nil
		}).Once()

	d := declaration()
	d.Systems = []string{"shop-db"}
	d.Budget = 1500 // small, so that every workflow continues as new many times
	id := incident.IncidentWorkflowID(d.IncidentID)
	upd := func(at time.Duration, name string, arg any) {
		env.RegisterDelayedCallback(func() {
			require.NoError(t, env.UpdateWorkflowByID(id, name, updateName(name, at), &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(err error) { t.Errorf("%s at %s refused: %v", name, at, err) },
				OnComplete: func(_ any, err error) {
					if err != nil {
						t.Errorf("%s at %s failed: %v", name, at, err)
					}
				}}, arg))
		}, at)
	}
	upd(time.Hour, incident.UpdateDecide, riskOnly("dpo"))
	upd(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "gdpr-art33-authority"})
	upd(2*time.Hour+time.Minute, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "uk-gdpr-art33-ico"})
	const supplements = 13
	for m := 1; m <= supplements; m++ {
		upd(time.Duration(m)*30*day, incident.UpdateSupplement, incident.SupplementRequest{By: "dpo", Obligation: "gdpr-art33-authority", Note: fmt.Sprintf("month %d", m)})
	}
	var before incident.Status
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflowByID(id, incident.QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&before))
	}, 399*day)
	confirmAt, fileAt := 400*day+30*time.Minute, 400*day+time.Hour
	upd(confirmAt, incident.UpdateApprove, incident.ApproveRequest{By: "ic", Step: incident.StepIsolation + "shop-db", Note: "unplugged at last"})
	upd(fileAt, incident.UpdateFile, incident.FileRequest{By: "dpo", Obligation: "uk-gdpr-art33-ico", Reference: "ICO-400", Reasons: "the portal account was lost"})
	upd(fileAt+time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"})

	env.ExecuteWorkflow(yearHost, d)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	// Continued as new, and never long.
	require.NotNil(t, before.History)
	t.Logf("incident: %+v", *before.History)
	require.Greater(t, before.History.Runs, 1, "the incident continued as new")
	require.LessOrEqual(t, before.History.Longest, 10240)
	for _, sys := range before.Containment {
		require.NotNil(t, sys.History, sys.System)
		t.Logf("containment %s: %+v", sys.System, *sys.History)
		require.Greater(t, sys.History.Runs, 1, "the containment continued as new")
		require.LessOrEqual(t, sys.History.Longest, 10240)
	}
	var uk incident.ObligationStatus
	for _, o := range before.Obligations {
		require.NotNil(t, o.History, o.ID)
		t.Logf("%s: %+v", o.ID, *o.History)
		require.LessOrEqual(t, o.History.Longest, 10240)
		if o.ID == "uk-gdpr-art33-ico" {
			uk = o
		}
	}
	require.Greater(t, uk.History.Runs, 1, "the overdue clock continued as new")

	// Each manual-isolation reminder due before the confirmation, once, in order.
	want := 0
	for k := 1; (incident.ReminderPolicy{}).Manual().At(start, k).Before(start.Add(confirmAt)); k++ {
		want = k
	}
	got := remindersSeen(t, chats)
	require.Equal(t, want, len(got), "manual reminders sent")
	for i, k := range got {
		require.Equal(t, i+1, k, "reminder %d sent once, in order: %v", i+1, got)
	}

	// The overdue clock: each escalation point once, each overdue reminder once.
	final := written.Obligations
	sort.Slice(final, func(i, j int) bool { return final[i].ID < final[j].ID })
	for _, o := range final {
		if o.ID != "uk-gdpr-art33-ico" {
			continue
		}
		wantOverdue := 0
		for k := 1; (incident.ReminderPolicy{}).Overdue().At(o.DueAt, k).Before(start.Add(fileAt)); k++ {
			wantOverdue = k
		}
		require.Equal(t, wantOverdue, countPrefix(o.Escalations, "still OVERDUE"), "overdue reminders of %s", o.ID)
		require.Equal(t, 5+wantOverdue, len(o.Escalations), "every point and reminder once: %v", o.Escalations)
		require.Equal(t, incident.OblFiled, o.State)
		require.True(t, o.Late)
	}

	// Every supplement submitted once and recorded, numbered in order.
	require.Len(t, sequences, 1+supplements)
	for _, o := range written.Obligations {
		if o.ID == "gdpr-art33-authority" {
			require.Len(t, o.Supplements, supplements)
			for i, sup := range o.Supplements {
				require.Equal(t, i+1, sup.Sequence)
			}
		}
	}
	require.False(t, written.ClosedAt.IsZero())
	require.True(t, written.Containment[0].Manual)
}

var reminderNumber = regexp.MustCompile(`\(reminder (\d+)\)`)

// remindersSeen lists the manual-isolation reminders the room heard, by their number.
func remindersSeen(t *testing.T, chats []incident.ChatMessage) []int {
	t.Helper()
	var out []int
	for _, m := range chats {
		if m.Kind != "manual-isolation-reminder" {
			continue
		}
		sm := reminderNumber.FindStringSubmatch(m.Text)
		require.NotNil(t, sm, "reminder without a number: %s", m.Text)
		n, _ := strconv.Atoi(sm[1])
		out = append(out, n)
	}
	return out
}

// countPrefix counts the escalation records ("<time> <label>") whose label starts with prefix.
func countPrefix(escalations []string, prefix string) int {
	n := 0
	for _, e := range escalations {
		if len(e) > 21 && len(e[21:]) >= len(prefix) && e[21:21+len(prefix)] == prefix {
			n++
		}
	}
	return n
}
