package workflows

import (
	"strings"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
)

func sqlDeclaration() incident.Declaration {
	d := declaration()
	from, to := start.Add(-30*24*time.Hour), start
	d.Subjects = incident.SQLRef("shop", &from, &to)
	return d
}

const snapshotSHA = "5e7a2b2c1f0e9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa"

func snapshotRef() incident.DatasetRef {
	return incident.DatasetRef{URI: "dataset:sql-shop-5e7a2b2c1f0e.csv", SHA256: snapshotSHA, Source: "sql:shop"}
}

// A SQL source is snapshotted into the dataset store before the scope, which reads the
// snapshot; the timeline says which source, which window, how many rows and the snapshot's
// hash, and the incident keeps the snapshot's reference.
func (s *incidentSuite) TestSQLSourceIsSnapshottedBeforeTheScope() {
	s.mockBase()
	d := sqlDeclaration()
	s.env.OnActivity(a.SnapshotSubjects, mock.Anything, incident.SnapshotInput{IncidentID: d.IncidentID, Dataset: d.Subjects}).Return(
		incident.SnapshotResult{Dataset: snapshotRef(), Rows: 12, Bytes: 640}, nil).Once()
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: d.IncidentID, Dataset: snapshotRef()}).Return(
		incident.ScopeResult{Summary: scope(), Dataset: snapshotRef()}, nil).Once()
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	var st incident.Status
	s.env.RegisterDelayedCallback(func() { st = s.status() }, 30*time.Minute)
	s.update(time.Hour, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "unlikely", Reasoning: "hashed addresses only"}, nil)
	s.update(2*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().NoError(s.env.GetWorkflowError())

	s.Equal(snapshotRef(), st.Dataset)
	var snap *incident.Event
	for i, e := range st.Timeline {
		if e.Kind == "snapshot" {
			snap = &st.Timeline[i]
		}
	}
	s.Require().NotNil(snap, "no snapshot on the timeline")
	s.Equal("Subjects read from SQL source shop for 2026-10-29T09:00:00Z to 2026-11-28T09:00:00Z: 12 rows snapshotted into dataset:sql-shop-5e7a2b2c1f0e.csv (640 bytes, SHA-256 "+snapshotSHA+"); the incident uses this snapshot from now on.", snap.Text)
}

// A source that fails (a statement timeout past its retries) stops the scope with the source's
// message, and the same source given again is snapshotted again.
func (s *incidentSuite) TestFailedSnapshotWaitsAndTheSourceCanBeTriedAgain() {
	s.mockBase()
	d := sqlDeclaration()
	timeout := temporal.NewApplicationError("subjects source shop: the query ran longer than its statement timeout of 10m0s", incident.ErrTypeSubjectsSourceUnavailable)
	s.env.OnActivity(a.SnapshotSubjects, mock.Anything, mock.Anything).Return(incident.SnapshotResult{}, timeout).Times(3)
	s.env.OnActivity(a.SnapshotSubjects, mock.Anything, mock.Anything).Return(incident.SnapshotResult{Dataset: snapshotRef(), Rows: 12}, nil).Once()
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: d.IncidentID, Dataset: snapshotRef()}).Return(
		incident.ScopeResult{Summary: scope(), Dataset: snapshotRef()}, nil).Once()
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	var failed incident.Status
	s.env.RegisterDelayedCallback(func() { failed = s.status() }, 30*time.Minute)
	s.update(40*time.Minute, incident.UpdateReplaceSubjects, incident.ReplaceSubjectsRequest{By: "ic", Subjects: d.Subjects}, nil)
	s.update(time.Hour, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "unlikely", Reasoning: "hashed addresses only"}, nil)
	s.update(2*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().NoError(s.env.GetWorkflowError())

	s.Equal(incident.PhaseAssess, failed.Phase)
	s.Contains(failed.ScopeError, "subjects source shop: the query ran longer than its statement timeout")
	s.True(hasPendingStep(failed, incident.UpdateReplaceSubjects))
	var fix string
	s.mu.Lock()
	for _, m := range s.chats {
		if m.Kind == incident.MsgScopeFailed {
			fix = m.Text
		}
	}
	s.mu.Unlock()
	s.Contains(fix, "breach subjects INC-20261128-7E57 --subjects-sql shop")
	st := s.status()
	s.Empty(st.ScopeError)
	s.Equal(snapshotRef(), st.Dataset)
}

// Amending with a SQL source snapshots it again, and the scope is assessed on the new snapshot.
func (s *incidentSuite) TestAmendWithASQLSourceSnapshotsItAgain() {
	s.mockBase()
	d := declaration()
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: d.IncidentID, Dataset: d.Subjects}).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: d.Subjects.URI, SHA256: "abc"}}, nil).Once()
	later := incident.SQLRef("shop", nil, nil)
	s.env.OnActivity(a.SnapshotSubjects, mock.Anything, incident.SnapshotInput{IncidentID: d.IncidentID, Dataset: later}).Return(
		incident.SnapshotResult{Dataset: snapshotRef(), Rows: 12}, nil).Once()
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: d.IncidentID, Dataset: snapshotRef()}).Return(
		incident.ScopeResult{Summary: scope(), Dataset: snapshotRef()}, nil).Once()
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	s.update(time.Hour, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "unlikely", Reasoning: "hashed addresses only"}, nil)
	s.update(90*time.Minute, incident.UpdateAmend, incident.AmendRequest{By: "dpo", Subjects: &later}, nil)
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().NoError(s.env.GetWorkflowError())
	st := s.status()
	s.Equal(snapshotRef(), st.Dataset)
	found := false
	for _, e := range st.Timeline {
		found = found || (e.Kind == "snapshot" && strings.Contains(e.Text, "SQL source shop: 12 rows"))
	}
	s.True(found, "the amendment's snapshot is on the timeline")
}

func hasPendingStep(st incident.Status, step string) bool {
	for _, p := range st.Pending {
		if p.Step == step {
			return true
		}
	}
	return false
}
