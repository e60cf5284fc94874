package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
	bmail "github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/subjects"
)

// dataset writes a CSV of n subjects (every 10th in the US, state CA), plus an invalid address,
// a duplicate by id and a mixed-case duplicate address.
func dataset(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,email,name,country,state,data_categories\r\n")
	for i := 1; i <= n; i++ {
		country, state := "DE", ""
		if i%10 == 0 {
			country, state = "US", "CA"
		}
		fmt.Fprintf(&b, "S%d,person%d@example.net,\"Person %d\",%s,%s,contact;orders\r\n", i, i, i, country, state)
	}
	b.WriteString("X1,not-an-address,Nobody,DE,,contact\r\n")
	b.WriteString("S1,other@example.net,Person One Again,DE,,contact\r\n")
	b.WriteString("S999999,PERSON2@example.net,Person Two Shouting,DE,,contact\r\n")
	path := filepath.Join(t.TempDir(), "subjects.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

type countingMailer struct {
	bmail.Outbox
	calls int
	fail  int // fail this many calls from the start with a transient error
}

func (m *countingMailer) Send(ctx context.Context, msg bmail.Message) (bmail.Receipt, error) {
	m.calls++
	if m.calls <= m.fail {
		return bmail.Receipt{}, errors.New("connection reset by person@example.net")
	}
	return m.Outbox.Send(ctx, msg)
}

func newTestActivities(t *testing.T) (*Activities, *countingMailer) {
	dir := t.TempDir()
	m := &countingMailer{Outbox: bmail.Outbox{Dir: filepath.Join(dir, "outbox")}}
	return &Activities{Mail: m, Datasets: pathDatasets{}, Dir: dir, Pseudonyms: testKey(t)}, m
}

var routes = []incident.NoticeRoute{
	{Obligation: "us-ca-residents", Template: "us-ca-notice", Subjects: []string{"US-CA"}},
	{Obligation: "gdpr-art34-subjects", Template: "gdpr-art34-notice", Subjects: []string{"EEA"}},
}

func notice() incident.NoticeContent {
	return incident.NoticeContent{OrgName: "Example Shop", From: "privacy@example.test", WhatHappened: "A backup was exposed.", Contact: "privacy@example.test", Routes: routes}
}

func runChunks(t *testing.T, env *testsuite.TestActivityEnvironment, a *Activities, ref incident.DatasetRef, rows int) incident.NoticeCounts {
	t.Helper()
	var total incident.NoticeCounts
	from := subjects.Position{}
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "chunks never finish")
		v, err := env.ExecuteActivity(a.SendNotices, incident.NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, From: from, MaxRows: rows, Notice: notice()})
		require.NoError(t, err)
		var res incident.NoticeChunkResult
		require.NoError(t, v.Get(&res))
		total.Add(res.Counts)
		from = res.Next
		if res.Done {
			return total
		}
	}
}

func recipients(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		msg, err := mail.ReadMessage(f)
		require.NoError(t, err)
		out[strings.ToLower(msg.Header.Get("To"))]++
		f.Close()
	}
	return out
}

func TestSendNoticesExactlyOncePerAddressAcrossChunksAndRuns(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, m := newTestActivities(t)
	env.RegisterActivity(a)
	path := dataset(t, 95)
	scope := assess(t, env, a, path)
	require.Equal(t, 95, scope.Summary.Mailable)
	require.Equal(t, 2, scope.Summary.Duplicates)

	counts := runChunks(t, env, a, scope.Dataset, 7)
	require.Equal(t, 95, counts.Sent)
	require.Equal(t, 1, counts.Invalid)
	require.Equal(t, 2, counts.Duplicates)
	got := recipients(t, filepath.Join(a.Dir, "outbox", "INC-20261128-0001", "notices"))
	require.Len(t, got, 95)
	for addr, n := range got {
		require.Equal(t, 1, n, addr)
	}
	require.NotContains(t, got, "other@example.net", "a duplicate subject id gets no second notice")

	// A second run (a retry, or a corrected dataset) sends nothing twice.
	calls := m.calls
	again := runChunks(t, env, a, scope.Dataset, 50)
	require.Equal(t, 0, again.Sent)
	require.Equal(t, 95, again.AlreadySent)
	require.Len(t, recipients(t, filepath.Join(a.Dir, "outbox", "INC-20261128-0001", "notices")), 95)
	require.Equal(t, calls+95, m.calls, "the outbox is asked, and answers duplicate")
}

func TestSendNoticesUsesTheNoticeOfEachPersonsLaw(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, _ := newTestActivities(t)
	env.RegisterActivity(a)
	path := dataset(t, 20)
	scope := assess(t, env, a, path)
	runChunks(t, env, a, scope.Dataset, 1000)
	dir := filepath.Join(a.Dir, "outbox", "INC-20261128-0001", "notices")
	entries, _ := os.ReadDir(dir)
	ca, eu := 0, 0
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
		require.NoError(t, err)
		to := msg.Header.Get("To")
		if to == "person10@example.net" || to == "person20@example.net" {
			ca++
			require.Contains(t, msg.Header.Get("Subject"), "Notice of Data Breach", to)
		} else {
			eu++
		}
	}
	require.Equal(t, 2, ca)
	require.Equal(t, 18, eu)
}

func TestSendNoticesOnlyToPeopleALawCovers(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, _ := newTestActivities(t)
	env.RegisterActivity(a)
	path := dataset(t, 20)
	scope := assess(t, env, a, path)
	v, err := env.ExecuteActivity(a.SendNotices, incident.NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: scope.Dataset, MaxRows: 1000,
		Notice: incident.NoticeContent{OrgName: "Shop", From: "privacy@example.test", Contact: "c", Routes: routes[:1]}})
	require.NoError(t, err)
	var res incident.NoticeChunkResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, 2, res.Counts.Sent, "only the Californians")
	require.Equal(t, 18, res.Counts.NotCovered)
}

func TestSendNoticesErrorsCarryNoPersonalData(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, m := newTestActivities(t)
	m.fail = 1
	env.RegisterActivity(a)
	path := dataset(t, 3)
	scope := assess(t, env, a, path)
	_, err := env.ExecuteActivity(a.SendNotices, incident.NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: scope.Dataset, MaxRows: 10, Notice: notice()})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "person1@example.net")
	require.NotContains(t, err.Error(), "Person 1")
	require.Contains(t, err.Error(), "row 1 (line 2)")
}

func TestAssessScopeMissingColumnIsNotRetried(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, _ := newTestActivities(t)
	env.RegisterActivity(a)
	path := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(path, []byte("id,name,country\n1,A,DE\n"), 0o600))
	_, err := env.ExecuteActivity(a.AssessScope, incident.ScopeInput{IncidentID: "INC-20261128-0001", Dataset: incident.DatasetRef{URI: path}})
	require.ErrorContains(t, err, `required column "email"`)
	require.ErrorContains(t, err, incident.ErrTypeSubjectsMissingColumn)
}

// A retried chunk resumes from its last heartbeat, not from the chunk's start.
func TestSendNoticesResumesFromHeartbeat(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, m := newTestActivities(t)
	env.RegisterActivity(a)
	path := dataset(t, 30)
	scope := assess(t, env, a, path)

	// Where a first attempt stood after 12 rows.
	f, err := os.Open(path)
	require.NoError(t, err)
	rd, err := subjects.NewReader(f, nil)
	require.NoError(t, err)
	for i := 0; i < 12; i++ {
		_, err := rd.Next()
		require.NoError(t, err)
	}
	pos := rd.Position()
	f.Close()
	env.SetHeartbeatDetails(incident.NoticeChunkResult{Next: pos, Counts: incident.NoticeCounts{Rows: 12, Sent: 12}})

	v, err := env.ExecuteActivity(a.SendNotices, incident.NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: scope.Dataset, MaxRows: 20, Notice: notice()})
	require.NoError(t, err)
	var res incident.NoticeChunkResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, 20, res.Counts.Rows, "12 carried from the heartbeat, 8 read now")
	require.Equal(t, 8, m.calls, "rows before the heartbeat are not read again")
	require.Equal(t, 20, res.Next.Index)
}

// assess runs the scope phase over path, as the workflow does before any notice.
func assess(t *testing.T, env *testsuite.TestActivityEnvironment, a *Activities, path string) incident.ScopeResult {
	t.Helper()
	v, err := env.ExecuteActivity(a.AssessScope, incident.ScopeInput{IncidentID: "INC-20261128-0001", Dataset: incident.DatasetRef{URI: path}})
	require.NoError(t, err)
	var scope incident.ScopeResult
	require.NoError(t, v.Get(&scope))
	return scope
}

// pathDatasets opens a dataset reference as a file path: the activity tests write their
// datasets to temporary files.
type pathDatasets struct{}

func (pathDatasets) Open(ctx context.Context, ref incident.DatasetRef) (io.ReadSeekCloser, error) {
	return os.Open(ref.URI)
}
