package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// a names the activities of the plan, as the worker registers the methods of
// activities.Activities: workflow.ExecuteActivity(ctx, a.Isolate, …). The workflows name
// activities and never import them; TestActivityNames keeps the names true.
var a = struct {
	OpenRoom, PostChat, UpdateCard             string
	Isolate, VerifyIsolation, ReleaseIsolation string
	SnapshotSubjects, AssessScope              string
	EvaluateObligations                        string
	DraftReport, SubmitReport                  string
	PlanNotices, SendNotices, FinishNotices    string
	WriteRecords, RecordRegister               string
}{
	OpenRoom: "OpenRoom", PostChat: "PostChat", UpdateCard: "UpdateCard",
	Isolate: "Isolate", VerifyIsolation: "VerifyIsolation", ReleaseIsolation: "ReleaseIsolation",
	SnapshotSubjects: "SnapshotSubjects", AssessScope: "AssessScope", EvaluateObligations: "EvaluateObligations",
	DraftReport: "DraftReport", SubmitReport: "SubmitReport",
	PlanNotices: "PlanNotices", SendNotices: "SendNotices", FinishNotices: "FinishNotices",
	WriteRecords: "WriteRecords", RecordRegister: "RecordRegister",
}

// da names the drill's activities, the methods of activities.DrillActivities.
var da = struct {
	AutoPilot, AutopilotKey, IncidentStatus, WriteDrillReport string
}{AutoPilot: "AutoPilot", AutopilotKey: "AutopilotKey", IncidentStatus: "IncidentStatus", WriteDrillReport: "WriteDrillReport"}

// Chat is best effort: a few quick tries, then the plan goes on without it.
func chatCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 4,
		},
	})
}

// Firewall calls retry briefly; if automation cannot isolate, a person must, and quickly.
func firewallCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{incident.ErrTypeFirewallPermanent},
		},
	})
}

func scopeCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{incident.ErrTypeSubjectsMissingColumn, incident.ErrTypeSubjectsUnreadable},
		},
	})
}

// A SQL source's snapshot streams the whole result, under the source's own statement timeout
// (at most a day): it heartbeats from a ticker, and a timeout or a lost connection is tried
// twice more before a person is asked.
func snapshotCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 25 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 10 * time.Second, BackoffCoefficient: 3, MaximumInterval: 5 * time.Minute, MaximumAttempts: 3,
			NonRetryableErrorTypes: []string{incident.ErrTypeSubjectsSource},
		},
	})
}

// Reports and records are local writes or one email: retry until they succeed.
func reportCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{"TemplateError"},
		},
	})
}

// NoticeHeartbeatTimeout bounds how long a crashed worker's chunk waits before another worker
// resumes it from its last heartbeat.
const NoticeHeartbeatTimeout = 10 * time.Second

func noticeCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    NoticeHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{incident.ErrTypeSubjectsUnreadable, incident.ErrTypeSubjectsChanged, "TemplateError"},
		},
	})
}
