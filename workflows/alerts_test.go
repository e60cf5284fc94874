package workflows

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/subjects"
)

func alertsEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(AlertsWorkflow)
	env.RegisterActivity(&activities.Activities{})
	return env
}

func alertsInput() AlertsInput {
	return AlertsInput{IncidentID: "INC-1", Dataset: incident.DatasetRef{URI: "/d.csv", SHA256: "abc"}, Total: 9000, Run: 1,
		Notice: incident.NoticeContent{OrgName: "Shop", From: "privacy@example.test"}}
}

func starts(n, rows int) []subjects.Position {
	out := make([]subjects.Position, n)
	for i := range out {
		out[i] = subjects.Position{Offset: int64(i * rows * 40), Line: i*rows + 2, Index: i * rows}
	}
	return out
}

// The SendGrid plan's ranges go out side by side, at most Parallel at once; the final
// account is the ledger's.
func TestAlertsSendsRangesSideBySide(t *testing.T) {
	env := alertsEnv(t)
	env.OnActivity(a.PlanNotices, mock.Anything, mock.Anything).Return(
		incident.NoticePlan{RangeRows: 2000, Parallel: 3, Starts: starts(5, 2000), Rows: 9100}, nil).Once()
	// Each range takes ten minutes of workflow time; which start together shows the parallelism.
	var mu sync.Mutex
	startedAt := map[time.Time]int{}
	seen := map[int]int{}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "SendNotices" {
			mu.Lock()
			startedAt[env.Now()]++
			mu.Unlock()
		}
	})
	env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			mu.Lock()
			seen[in.From.Index]++
			mu.Unlock()
			if in.MaxRows != 2000 || in.Rerun {
				return incident.NoticeChunkResult{}, errors.New("wrong input")
			}
			n := min(2000, 9100-in.From.Index)
			return incident.NoticeChunkResult{Next: subjects.Position{Index: in.From.Index + n}, Done: n < 2000,
				Counts: incident.NoticeCounts{Rows: n, Sent: n - 20, Invalid: 10, Duplicates: 10, Ambiguous: 1}}, nil
		}).After(10 * time.Minute).Times(5)
	env.OnActivity(a.FinishNotices, mock.Anything, mock.Anything).Return(incident.NoticeSummary{Ledger: true, Sent: 8999,
		Rejected: 1, AmbiguousBatches: 4, PossiblyDuplicated: 3, List: "/home/incidents/INC-1/alerts/possibly-duplicated.csv"}, nil).Once()
	env.ExecuteWorkflow(AlertsWorkflow, alertsInput())
	require.NoError(t, env.GetWorkflowError())
	var p incident.AlertProgress
	require.NoError(t, env.GetWorkflowResult(&p))
	require.Equal(t, incident.AlertsDone, p.State)
	require.Equal(t, 8999, p.Sent, "the ledger's count")
	require.Equal(t, 1, p.Failed)
	require.Equal(t, 4, p.Ambiguous)
	require.Equal(t, 3, p.PossiblyDuplicated)
	require.NotEmpty(t, p.PossiblyDuplicatedList)
	require.Equal(t, 50, p.Invalid)
	require.Equal(t, 9100, p.Rows)
	require.Equal(t, map[int]int{0: 1, 2000: 1, 4000: 1, 6000: 1, 8000: 1}, seen)
	var waves []int
	for _, n := range startedAt {
		waves = append(waves, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(waves)))
	require.Equal(t, []int{3, 2}, waves, "three ranges side by side (Parallel), then the other two")
}

// Before its history grows large, an alerts run lets the ranges under way finish and
// continues as new from the first range not started.
func TestAlertsContinueAsNewBetweenRanges(t *testing.T) {
	env := alertsEnv(t)
	plan := incident.NoticePlan{RangeRows: 1000, Parallel: 4, Starts: starts(chunksPerRun+50, 1000)}
	env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			return incident.NoticeChunkResult{Next: subjects.Position{Index: in.From.Index + 1000},
				Counts: incident.NoticeCounts{Rows: 1000, Sent: 1000}}, nil
		}).Times(chunksPerRun)
	in := alertsInput()
	in.Plan = &plan
	env.ExecuteWorkflow(AlertsWorkflow, in)
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can)
	var next AlertsInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, chunksPerRun, next.NextRange)
	require.Equal(t, chunksPerRun*1000, next.Counts.Sent)
	require.Equal(t, plan.Starts, next.Plan.Starts)
	require.False(t, next.StartedAt.IsZero(), "the start time is carried")
}

// A later alerts run asks the chunks to look each person up; a range that cannot be sent
// stops the run with a message naming its first row, after the others under way finish.
func TestAlertsLaterRunAndFailure(t *testing.T) {
	env := alertsEnv(t)
	env.OnActivity(a.PlanNotices, mock.Anything, mock.Anything).Return(
		incident.NoticePlan{RangeRows: 1000, Parallel: 2, Starts: starts(4, 1000)}, nil).Once()
	var mu sync.Mutex
	var froms []int
	record := func(in incident.NoticeChunkInput) {
		mu.Lock()
		froms = append(froms, in.From.Index)
		mu.Unlock()
	}
	failing := func(in incident.NoticeChunkInput) bool { return in.From.Index == 1000 }
	env.OnActivity(a.SendNotices, mock.Anything, mock.MatchedBy(failing)).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			record(in)
			return incident.NoticeChunkResult{}, temporal.NewNonRetryableApplicationError("sendgrid mail send batch INC-1/notice/x: HTTP 400", activities.ErrTypeSendGridBadRequest, nil)
		})
	// The other ranges take half an hour of workflow time: the failure is known before they end.
	env.OnActivity(a.SendNotices, mock.Anything, mock.MatchedBy(func(in incident.NoticeChunkInput) bool { return !failing(in) })).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			record(in)
			if !in.Rerun {
				return incident.NoticeChunkResult{}, errors.New("not a rerun")
			}
			return incident.NoticeChunkResult{Next: subjects.Position{Index: in.From.Index + 1000}, Counts: incident.NoticeCounts{Rows: 1000, Sent: 1000}}, nil
		}).After(30 * time.Minute)
	in := alertsInput()
	in.Run = 2
	env.ExecuteWorkflow(AlertsWorkflow, in)
	err := env.GetWorkflowError()
	require.ErrorContains(t, err, "dataset row 1001")
	require.ErrorContains(t, err, "HTTP 400")
	require.NotContains(t, froms, 3000, "no range starts after the failure is known")
}

// With the outbox there is no plan: chunks follow one another as before.
func TestAlertsOutboxChunksFollowOneAnother(t *testing.T) {
	env := alertsEnv(t)
	var froms []int
	env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			froms = append(froms, in.From.Index)
			if in.MaxRows != NoticeChunkRows {
				return incident.NoticeChunkResult{}, errors.New("wrong chunk size")
			}
			next := in.From.Index + 1000
			return incident.NoticeChunkResult{Next: subjects.Position{Index: next}, Done: next >= 3000,
				Counts: incident.NoticeCounts{Rows: 1000, Sent: 990, AlreadySent: 5, Invalid: 5}}, nil
		}).Times(3)
	env.ExecuteWorkflow(AlertsWorkflow, alertsInput())
	require.NoError(t, env.GetWorkflowError())
	var p incident.AlertProgress
	require.NoError(t, env.GetWorkflowResult(&p))
	require.Equal(t, []int{0, 1000, 2000}, froms)
	require.Equal(t, 2985, p.Sent)
	require.Equal(t, 15, p.Invalid)
}

// A history recorded before changeAlertsPlan (testdata/alerts-before-plan.json: 2,401 rows in
// three chunks of the outbox path) still replays: it takes the old chunk loop.
func TestReplayAlertsHistoryFromBeforeThePlan(t *testing.T) {
	replayAll(t, "alerts-before-plan")
}

// The notices' languages add up over the ranges, and the timeline is told them, with the people
// who got theirs in English for want of a translation.
func TestAlertsCountLanguages(t *testing.T) {
	env := alertsEnv(t)
	env.OnActivity(a.PlanNotices, mock.Anything, mock.Anything).Return(
		incident.NoticePlan{RangeRows: 2000, Parallel: 2, Starts: starts(2, 2000), Rows: 4000}, nil).Once()
	env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			return incident.NoticeChunkResult{Next: subjects.Position{Index: in.From.Index + 2000}, Done: in.From.Index > 0,
				Counts: incident.NoticeCounts{Rows: 2000, Sent: 2000, Languages: map[string]int{"de": 1500, "it": 300, "en": 200},
					Fallbacks: map[string]int{"us-state-notice:es": 20}}}, nil
		}).Times(2)
	env.OnActivity(a.FinishNotices, mock.Anything, mock.Anything).Return(incident.NoticeSummary{}, nil).Once()
	env.ExecuteWorkflow(AlertsWorkflow, alertsInput())
	require.NoError(t, env.GetWorkflowError())
	var p incident.AlertProgress
	require.NoError(t, env.GetWorkflowResult(&p))
	require.Equal(t, map[string]int{"de": 3000, "it": 600, "en": 400}, p.Languages)
	require.Equal(t, map[string]int{"us-state-notice:es": 40}, p.Fallbacks)
	require.Equal(t, "Notices by language: de 3000, en 400, it 600. Template us-state-notice has no es translation: 40 people got it in English.",
		languagesText(p))
}
