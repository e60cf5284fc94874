package activities

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/internal/ledger"
	bmail "github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/sendgrid"
	"github.com/breachops/breach/internal/sendgridtest"
	"github.com/breachops/breach/internal/subjects"
	"github.com/breachops/breach/templates"
)

const sgKey = "SG.unit-test-key"

// sgFixture is the SendGrid path wired to a local SendGrid: activities, the server, the
// ledger, and an activity environment that resumes from the last heartbeat as Temporal would.
type sgFixture struct {
	t    *testing.T
	env  *testsuite.TestActivityEnvironment
	acts *Activities
	sg   *SendGridMail
	srv  *sendgridtest.Server
	led  *ledger.Ledger
	url  string

	mu        sync.Mutex
	heartbeat *batchProgress
}

type sgSetup struct {
	server    sendgridtest.Options
	opaque400 bool
}

type sgOption func(*sgSetup)

func withoutActivity() sgOption { return func(s *sgSetup) { s.server.NoEmailActivity = true } }

// opaque400s makes the front strip the field names from 400 answers, as for an error that
// does not say which recipient it is about: only bisection can find it then.
func opaque400s() sgOption { return func(s *sgSetup) { s.opaque400 = true } }

func newSGFixture(t *testing.T, opts ...sgOption) *sgFixture {
	t.Helper()
	setup := sgSetup{server: sendgridtest.Options{APIKey: sgKey}}
	for _, o := range opts {
		o(&setup)
	}
	sg := &SendGridMail{RangeRows: 3000, Parallel: 2}
	srv := sendgridtest.New(setup.server)
	contract := sendgridtest.MustContract()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checkContract(t, contract, r)
		if !setup.opaque400 {
			srv.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		if rec.Code == http.StatusBadRequest {
			io.WriteString(w, `{"errors":[{"message":"Bad Request","field":null,"help":null}]}`)
			return
		}
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(ts.Close)
	return newSGFixtureAt(t, srv, ts.URL, sg)
}

func newSGFixtureAt(t *testing.T, srv *sendgridtest.Server, url string, sg *SendGridMail) *sgFixture {
	t.Helper()
	client, err := sendgrid.New(sendgrid.Config{APIKey: sgKey, Host: url})
	require.NoError(t, err)
	dir := t.TempDir()
	led, err := ledger.Open(context.Background(), filepath.Join(dir, "ledger.db"))
	require.NoError(t, err)
	t.Cleanup(func() { led.Close() })
	sg.Client, sg.Ledger = client, led
	f := &sgFixture{t: t, sg: sg, srv: srv, led: led, url: url,
		acts: &Activities{Mail: sg, Datasets: pathDatasets{}, Dir: dir, Pseudonyms: testKey(t)}}
	var s testsuite.WorkflowTestSuite
	f.env = s.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.acts)
	f.env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var p batchProgress
		if details.Get(&p) == nil {
			f.mu.Lock()
			f.heartbeat = &p
			f.mu.Unlock()
		}
	})
	return f
}

func (f *sgFixture) scope(path string) DatasetRef {
	f.t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.AssessScope, ScopeInput{IncidentID: "INC-20261128-0001", Dataset: DatasetRef{URI: path}})
	require.NoError(f.t, err)
	var scope ScopeResult
	require.NoError(f.t, v.Get(&scope))
	return scope.Dataset
}

// chunk runs one SendNotices attempt, resuming from the previous attempt's last heartbeat.
func (f *sgFixture) chunk(in NoticeChunkInput) (NoticeChunkResult, error) {
	f.mu.Lock()
	if f.heartbeat != nil {
		f.env.SetHeartbeatDetails(*f.heartbeat)
	}
	f.mu.Unlock()
	v, err := f.env.ExecuteActivity(f.acts.SendNotices, in)
	var res NoticeChunkResult
	if err == nil {
		require.NoError(f.t, v.Get(&res))
		f.mu.Lock()
		f.heartbeat = nil
		f.env.SetHeartbeatDetails(nil)
		f.mu.Unlock()
	}
	return res, err
}

// run sends the whole dataset chunk by chunk, retrying each failed attempt as Temporal
// would, up to maxAttempts per chunk; it returns the counts and the errors of failed attempts.
func (f *sgFixture) run(ref DatasetRef, rows int, notice NoticeContent, maxAttempts int) (NoticeCounts, []error) {
	f.t.Helper()
	var total NoticeCounts
	var errs []error
	from := subjects.Position{}
	for i := 0; ; i++ {
		require.Less(f.t, i, 1000, "chunks never finish")
		var res NoticeChunkResult
		for attempt := 1; ; attempt++ {
			var err error
			res, err = f.chunk(NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, From: from, MaxRows: rows, Notice: notice})
			if err == nil {
				break
			}
			errs = append(errs, err)
			require.Less(f.t, attempt, maxAttempts, "chunk from row %d still failing: %v", from.Index+1, err)
		}
		total.Add(res.Counts)
		from = res.Next
		if res.Done {
			return total, errs
		}
	}
}

// wantAddresses are the distinct valid addresses of dataset(t, n), lowercased.
func wantAddresses(n int) map[string]bool {
	want := map[string]bool{}
	for i := 1; i <= n; i++ {
		want[fmt.Sprintf("person%d@example.net", i)] = true
	}
	return want
}

func checkDeliveries(t *testing.T, srv *sendgridtest.Server, want map[string]bool) {
	t.Helper()
	for a := range want {
		if n := srv.Deliveries(a); n != 1 {
			t.Fatalf("%s delivered %d times", a, n)
		}
	}
	st := srv.Stats()
	require.Equal(t, len(want), st.Unique, "addresses delivered")
	require.Equal(t, len(want), st.Delivered, "deliveries")
}

func TestSendGridNoticesExactlyOnceAcrossChunksAndRuns(t *testing.T) {
	f := newSGFixture(t)
	ref := f.scope(dataset(t, 2500))
	counts, errs := f.run(ref, 2000, notice(), 1)
	require.Empty(t, errs)
	require.Equal(t, 2500, counts.Sent)
	require.Equal(t, 1, counts.Invalid)
	require.Equal(t, 2, counts.Duplicates)
	want := wantAddresses(2500)
	checkDeliveries(t, f.srv, want)
	require.Zero(t, f.srv.Deliveries("other@example.net"), "a duplicate subject id gets no second notice")

	// Batches: per block of 1,000 rows, one per notice group (Californians and the EEA).
	reqs := f.srv.Requests()
	require.Len(t, reqs, 6)
	for _, r := range reqs {
		require.Equal(t, "INC-20261128-0001", r.IncidentID)
		require.Regexp(t, `^INC-20261128-0001/notice/[0-9a-f]{12}/\d{7}-\d{7}/(us-ca-notice|gdpr-art34-notice)\.any\.nc$`, r.BatchKey)
		require.Equal(t, []string{"INC-20261128-0001", "breach-notice", strings.SplitN(strings.Split(r.BatchKey, "/")[4], ".", 2)[0]}, r.Categories)
		require.LessOrEqual(t, len(r.Addresses), 1000)
	}

	p, err := f.led.Progress(context.Background(), "INC-20261128-0001")
	require.NoError(t, err)
	require.Equal(t, 2500, p.Subjects[ledger.Sent])
	require.Equal(t, 1, p.Subjects[ledger.InvalidAddress])
	require.Equal(t, 2, p.Subjects[ledger.Duplicate])
	require.Equal(t, 6, p.Batches[ledger.Accepted])
	o, err := f.led.Subject(context.Background(), "INC-20261128-0001", f.subjectKey("INC-20261128-0001", "Person7@Example.NET"))
	require.NoError(t, err)
	require.Equal(t, ledger.Sent, o.Outcome)

	// The same run again (a retried workflow): every batch is found accepted.
	again, errs := f.run(ref, 3000, notice(), 1)
	require.Empty(t, errs)
	require.Equal(t, 0, again.Sent)
	require.Equal(t, 2500, again.AlreadySent)
	require.Len(t, f.srv.Requests(), 6, "no request for accepted batches")

	// A later run with other notices (Californians now get the EEA notice too): each person
	// is looked up, nobody is sent twice.
	other := notice()
	other.Routes = []NoticeRoute{{Obligation: "dpo-decision", Template: "gdpr-art34-notice"}}
	v, err := f.env.ExecuteActivity(f.acts.SendNotices, NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, MaxRows: 3000, Notice: other, Rerun: true})
	require.NoError(t, err)
	var res NoticeChunkResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, 0, res.Counts.Sent)
	require.Equal(t, 2500, res.Counts.AlreadySent, "%+v", res.Counts)
	checkDeliveries(t, f.srv, want)
}

// Every request the notice path makes, including drills, splits, the Email Activity query and
// the regulator's report, validates against the official contract (checked by the fixture's
// contract checker, which fails the test on any violation).
func TestSendGridRequestsFollowTheContract(t *testing.T) {
	f := newSGFixture(t)
	ref := f.scope(dataset(t, 1200))
	f.srv.Reject("person1017@example.net")
	f.srv.Inject(sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept})
	_, errs := f.run(ref, 3000, notice(), 3)
	require.Len(t, errs, 1, "the dropped connection")
	drill := notice()
	_, err := f.env.ExecuteActivity(f.acts.SendNotices, NoticeChunkInput{IncidentID: "INC-20261128-0002", Drill: true, Dataset: ref, MaxRows: 3000, Notice: drill})
	// INC-20261128-0002 has no scope of its own: copy INC-20261128-0001's duplicate list first.
	require.Error(t, err)
	rs, err := f.acts.records()
	require.NoError(t, err)
	src, err := records.DuplicatesKey("INC-20261128-0001", ref.SHA256)
	require.NoError(t, err)
	raw, err := rs.Get(context.Background(), src)
	require.NoError(t, err)
	dst, err := records.DuplicatesKey("INC-20261128-0002", ref.SHA256)
	require.NoError(t, err)
	require.NoError(t, rs.Put(context.Background(), dst, raw))
	_, err = f.env.ExecuteActivity(f.acts.SendNotices, NoticeChunkInput{IncidentID: "INC-20261128-0002", Drill: true, Dataset: ref, MaxRows: 3000, Notice: drill})
	require.NoError(t, err)
	_, err = f.sg.Send(context.Background(), bmail.Message{Key: "INC-20261128-0001/authority/gdpr-art33-authority", From: "privacy@example.test",
		To: "dpa@authority.example", Subject: "Art. 33 report", Text: "report", Headers: map[string]string{"X-Breach-Incident": "INC-20261128-0001"}})
	require.NoError(t, err)

	st := f.srv.Stats()
	require.Equal(t, 1, st.ActivityQueries)
	require.Equal(t, 1200, st.Delivered, "every address but the refused one, once, and the report")
	require.Equal(t, 1200, st.Unique)
	require.Equal(t, 1199, st.Sandboxed, "the drill's requests are sandboxed")
	require.Greater(t, st.BadRequests, 0)
}

func TestSendGridNoticesSubstitutionsRenderEachPersonsNotice(t *testing.T) {
	n := notice()
	n.Routes = append([]NoticeRoute{
		{Obligation: "us-ny", Template: "us-state-notice", Subjects: []string{"US-NY", "US-TX"}},
		{Obligation: "uk", Template: "uk-subject-notice", Subjects: []string{"GB"}},
		{Obligation: "br", Template: "br-subject-notice", Subjects: []string{"BR"}},
		{Obligation: "hipaa", Template: "hipaa-individual-notice", Subjects: []string{"US-FL"}},
	}, n.Routes...)
	n.AwareAt = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	n.Consequences, n.Measures, n.Advice = "phishing", "isolated", "be careful"
	in := NoticeChunkInput{IncidentID: "INC-20261128-0001", Notice: n, Drill: true}
	g := newNoticeGroups(in)
	rows := []subjects.Row{
		{Name: "Ada Lovelace", Categories: []string{"contact", "orders"}, Jurisdiction: "DE"},
		{Name: "", Categories: []string{"contact"}, Jurisdiction: "FR"},
		{Name: "Zoë \"Z\" [%data%]", Categories: nil, Jurisdiction: "US-NY"},
		{Name: "Tex", Categories: []string{"ssn"}, Jurisdiction: "US-TX"},
		{Name: "Cal", Categories: []string{"ssn", "dob", "address"}, Jurisdiction: "US-CA"},
		{Name: "Brit", Categories: []string{"contact"}, Jurisdiction: "GB"},
		{Name: "João", Categories: []string{"cpf"}, Jurisdiction: "BR"},
		{Name: "", Categories: nil, Jurisdiction: "BR"},
		{Name: "Flo", Categories: []string{"diagnosis"}, Jurisdiction: "US-FL"},
	}
	labels := map[string]bool{}
	for _, row := range rows {
		route, ok := n.Route(row.Jurisdiction)
		require.True(t, ok, row.Jurisdiction)
		grp, err := g.group(route, row)
		require.NoError(t, err)
		labels[grp.label] = true
		subst := grp.substitutions(row)
		got := grp.subject + "\n" + grp.text
		// SendGrid replaces each tag once per occurrence, in one pass.
		var pairs []string
		for k, v := range subst {
			pairs = append(pairs, k, v)
		}
		got = strings.NewReplacer(pairs...).Replace(got)
		out, err := templates.Render(noticeTemplate(route), noticeView{NoticeContent: n, IncidentID: "INC-20261128-0001", Drill: true,
			Name: row.Name, Categories: row.Categories, Jurisdiction: row.Jurisdiction})
		require.NoError(t, err)
		subject, body := templates.SplitSubject(out)
		require.Equal(t, subject+"\n"+body, got, "%s in %s", route.Template, row.Jurisdiction)
	}
	// The state notice depends on the state; the GDPR notice does not.
	require.True(t, labels["us-state-notice.US-NY.nx"], "%v", labels)
	require.True(t, labels["us-state-notice.US-TX.nc"], "%v", labels)
	require.True(t, labels["gdpr-art34-notice.any.nc"], "%v", labels)
	require.True(t, labels["gdpr-art34-notice.any.xc"], "%v", labels)
}

func TestSendGridNoticesFaults(t *testing.T) {
	t.Run("429 waits as long as X-RateLimit-Reset says", func(t *testing.T) {
		f := newSGFixture(t)
		ref := f.scope(dataset(t, 2500))
		f.srv.Inject(sendgridtest.Fault{}, sendgridtest.Fault{Kind: sendgridtest.RateLimit, Wait: 3 * time.Second})
		_, err := f.chunk(NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, MaxRows: 3000, Notice: notice()})
		var app *temporal.ApplicationError
		require.ErrorAs(t, err, &app)
		require.Equal(t, ErrTypeSendGridRateLimited, app.Type())
		require.False(t, app.NonRetryable())
		require.InDelta(t, 3*time.Second, app.NextRetryDelay(), float64(1500*time.Millisecond))
		require.Equal(t, 1, len(f.heartbeat.Done), "the heartbeat holds the batch accepted before the 429")
		counts, errs := f.run(ref, 3000, notice(), 2)
		require.Empty(t, errs)
		require.Equal(t, 2500, counts.Sent)
		checkDeliveries(t, f.srv, wantAddresses(2500))
		require.Equal(t, 7, f.srv.Stats().Requests, "six batches and the refused request; the accepted batch not again")
	})
	t.Run("a 429 storm and 500s are retried until every batch is accepted", func(t *testing.T) {
		f := newSGFixture(t)
		ref := f.scope(dataset(t, 4000))
		f.srv.FaultEvery(2, sendgridtest.Fault{Kind: sendgridtest.RateLimit, Wait: time.Millisecond})
		f.srv.Inject(sendgridtest.Fault{Kind: sendgridtest.ServerError}, sendgridtest.Fault{Kind: sendgridtest.ServerError})
		counts, errs := f.run(ref, 3000, notice(), 20)
		require.NotEmpty(t, errs)
		kinds := map[string]int{}
		for _, err := range errs {
			var app *temporal.ApplicationError
			require.ErrorAs(t, err, &app)
			require.False(t, app.NonRetryable(), "%v", err)
			kinds[app.Type()]++
		}
		require.Equal(t, 2, kinds[ErrTypeSendGridTemporary])
		require.Greater(t, kinds[ErrTypeSendGridRateLimited], 2)
		require.Equal(t, 4000, counts.Sent)
		checkDeliveries(t, f.srv, wantAddresses(4000))
	})
	t.Run("a 400 is split: the refused address is recorded and skipped, the rest sent", func(t *testing.T) {
		f := newSGFixture(t)
		ref := f.scope(dataset(t, 1500))
		f.srv.Reject("person20@example.net", "PERSON1234@example.net")
		counts, errs := f.run(ref, 3000, notice(), 1)
		require.Empty(t, errs)
		require.Equal(t, 1498, counts.Sent)
		require.Equal(t, 2, counts.Rejected)
		want := wantAddresses(1500)
		delete(want, "person20@example.net")
		delete(want, "person1234@example.net")
		checkDeliveries(t, f.srv, want)
		o, err := f.led.Subject(context.Background(), "INC-20261128-0001", f.subjectKey("INC-20261128-0001", "person1234@example.net"))
		require.NoError(t, err)
		require.Equal(t, ledger.Rejected, o.Outcome)
	})
	t.Run("a 400 that does not say who is bisected", func(t *testing.T) {
		f := newSGFixture(t, opaque400s())
		ref := f.scope(dataset(t, 1500))
		f.srv.Reject("person20@example.net", "PERSON1234@example.net")
		counts, errs := f.run(ref, 3000, notice(), 1)
		require.Empty(t, errs)
		require.Equal(t, 1498, counts.Sent)
		require.Equal(t, 2, counts.Rejected)
		want := wantAddresses(1500)
		delete(want, "person20@example.net")
		delete(want, "person1234@example.net")
		checkDeliveries(t, f.srv, want)
		require.Greater(t, f.srv.Stats().BadRequests, 10, "bisection takes several requests")
	})
	t.Run("a 400 under a 429 storm: what SendGrid refused is kept, so retries progress", func(t *testing.T) {
		f := newSGFixture(t)
		ref := f.scope(dataset(t, 1500))
		f.srv.Reject("person20@example.net", "person1234@example.net", "person1301@example.net")
		f.srv.FaultEvery(2, sendgridtest.Fault{Kind: sendgridtest.RateLimit, Wait: time.Millisecond})
		counts, errs := f.run(ref, 3000, notice(), 20)
		require.NotEmpty(t, errs)
		require.Equal(t, 1497, counts.Sent)
		require.Equal(t, 3, counts.Rejected)
	})
	t.Run("a dropped connection after acceptance is reconciled through Email Activity", func(t *testing.T) {
		f := newSGFixture(t)
		ref := f.scope(dataset(t, 2500))
		f.srv.Inject(sendgridtest.Fault{}, sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept}, sendgridtest.Fault{Kind: sendgridtest.DropBeforeAccept})
		counts, errs := f.run(ref, 3000, notice(), 5)
		require.Len(t, errs, 2)
		for _, err := range errs {
			var app *temporal.ApplicationError
			require.ErrorAs(t, err, &app)
			require.Equal(t, ErrTypeSendGridAmbiguous, app.Type())
		}
		require.Equal(t, 2500, counts.Sent+counts.AlreadySent)
		require.Equal(t, 2, counts.Ambiguous)
		checkDeliveries(t, f.srv, wantAddresses(2500))
		require.Equal(t, 2, f.srv.Stats().ActivityQueries)
		sum := f.finish(ref)
		require.Equal(t, 2500, sum.Sent)
		require.Equal(t, 2, sum.AmbiguousBatches)
		require.Zero(t, sum.PossiblyDuplicated)
		require.Empty(t, sum.List)
	})
	t.Run("without Email Activity an ambiguous batch is resent and its people listed", func(t *testing.T) {
		f := newSGFixture(t, withoutActivity())
		ref := f.scope(dataset(t, 2500))
		f.srv.Inject(sendgridtest.Fault{}, sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept})
		counts, errs := f.run(ref, 3000, notice(), 3)
		require.Len(t, errs, 1)
		dup := f.srv.Requests()[1]
		require.Equal(t, len(dup.Addresses), counts.PossiblyDuplicated)
		require.Equal(t, 2500, counts.Sent+counts.PossiblyDuplicated)
		server := f.srv.Duplicates()
		require.Len(t, server, len(dup.Addresses))
		sum := f.finish(ref)
		require.Equal(t, len(dup.Addresses), sum.PossiblyDuplicated)
		require.Equal(t, 2500, sum.Sent)
		raw, err := os.ReadFile(sum.List)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		require.Equal(t, "subject_key,row,line", lines[0])
		listed := map[string]bool{}
		for _, l := range lines[1:] {
			listed[strings.Split(l, ",")[0]] = true
			require.Regexp(t, `^[0-9a-f]{32},\d+,\d+$`, l)
		}
		require.Len(t, listed, len(server))
		for a := range server {
			require.True(t, listed[f.subjectKey("INC-20261128-0001", a)], "%s was delivered twice but is not listed", a)
		}
		require.NotContains(t, string(raw), "@")
	})
	t.Run("errors carry no personal data", func(t *testing.T) {
		f := newSGFixture(t)
		ref := f.scope(dataset(t, 50))
		f.srv.Reject("person3@example.net")
		f.srv.Inject(sendgridtest.Fault{Kind: sendgridtest.ServerError})
		_, errs := f.run(ref, 3000, notice(), 3)
		require.NotEmpty(t, errs)
		for _, err := range errs {
			require.NotContains(t, err.Error(), "@")
			require.NotContains(t, err.Error(), "Person ")
		}
	})
}

func (f *sgFixture) finish(ref DatasetRef) NoticeSummary {
	f.t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.FinishNotices, NoticeFinishInput{IncidentID: "INC-20261128-0001", Dataset: ref})
	require.NoError(f.t, err)
	var sum NoticeSummary
	require.NoError(f.t, v.Get(&sum))
	require.True(f.t, sum.Ledger)
	return sum
}

// A worker that stops between the request and the ledger's record leaves the batch "sending";
// the retry reconciles it instead of sending it again.
func TestSendGridNoticesInterruptedBatchIsReconciled(t *testing.T) {
	for _, activityAPI := range []bool{true, false} {
		t.Run(fmt.Sprintf("email activity %t", activityAPI), func(t *testing.T) {
			var opts []sgOption
			if !activityAPI {
				opts = append(opts, withoutActivity())
			}
			f := newSGFixture(t, opts...)
			ref := f.scope(dataset(t, 900))
			ctx := context.Background()
			// What an attempt that died after the 202 leaves behind.
			in := NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, MaxRows: 3000, Notice: notice()}
			blocks := make(chan noticeBlock, 1)
			file, err := os.Open(ref.URI)
			require.NoError(t, err)
			defer file.Close()
			rd, err := subjects.NewReader(file, nil)
			require.NoError(t, err)
			rs, err := f.acts.records()
			require.NoError(t, err)
			dups, err := readDuplicates(ctx, rs, "INC-20261128-0001", ref.SHA256, 1, 3000)
			require.NoError(t, err)
			keys, err := ledgerKeys(ctx, f.sg, f.acts.Pseudonyms, "INC-20261128-0001")
			require.NoError(t, err)
			require.NoError(t, f.sg.readBlocks(ctx, rd, in, keys, dups, subjects.Position{}, 3000, blocks))
			blk := <-blocks
			b := blk.batches[len(blk.batches)-1].batch
			require.NoError(t, f.led.MarkSending(ctx, "INC-20261128-0001", b.Key))
			_, err = f.sg.Client.SendSplit(ctx, b)
			require.NoError(t, err)

			counts, errs := f.run(ref, 3000, notice(), 1)
			require.Empty(t, errs)
			require.Equal(t, 1, counts.Ambiguous)
			rec, err := f.led.Batch(ctx, "INC-20261128-0001", b.Key)
			require.NoError(t, err)
			require.Equal(t, ledger.Accepted, rec.State)
			require.Equal(t, 1, rec.AmbiguousAttempts)
			dupes := f.srv.Duplicates()
			if activityAPI {
				require.Empty(t, dupes)
				require.Equal(t, 900, counts.Sent+counts.AlreadySent)
			} else {
				require.Len(t, dupes, len(b.Recipients))
				require.Equal(t, len(b.Recipients), counts.PossiblyDuplicated)
				keys, err := f.led.PossiblyDuplicated(ctx, "INC-20261128-0001")
				require.NoError(t, err)
				require.Len(t, keys, len(b.Recipients))
			}
		})
	}
}

// A retried chunk resumes at its last heartbeat: blocks before it are not read or sent again,
// accepted batches of the block it stood in are not looked at again.
func TestSendGridNoticesResumeFromHeartbeat(t *testing.T) {
	f := newSGFixture(t)
	ref := f.scope(dataset(t, 2500))
	f.srv.Inject(sendgridtest.Fault{}, sendgridtest.Fault{}, sendgridtest.Fault{}, sendgridtest.Fault{Kind: sendgridtest.ServerError})
	_, err := f.chunk(NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, MaxRows: 3000, Notice: notice()})
	require.Error(t, err)
	hb := *f.heartbeat
	require.Equal(t, 1000, hb.Next.Index, "block 1 finished")
	require.Equal(t, []string{"gdpr-art34-notice.any.nc"}, hb.Done, "the first batch of block 2 accepted")
	require.Contains(t, hb.LastBatch, "/0001001-0002000/gdpr-art34-notice.any.nc")
	ctx := context.Background()
	// Forget the accepted batches in the ledger: a resume that looked at them again would
	// send them again, and the test would see it.
	_, err = f.led.DB().ExecContext(ctx, `DELETE FROM notify_batches WHERE state = 'accepted'`)
	require.NoError(t, err)
	res, err := f.chunk(NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, MaxRows: 3000, Notice: notice()})
	require.NoError(t, err)
	require.True(t, res.Done)
	require.Equal(t, 2500, res.Counts.Sent)
	checkDeliveries(t, f.srv, wantAddresses(2500))
}

func TestPlanNoticesRanges(t *testing.T) {
	f := newSGFixture(t)
	ref := f.scope(dataset(t, 6997)) // 7,000 rows with the three odd ones
	v, err := f.env.ExecuteActivity(f.acts.PlanNotices, NoticePlanInput{IncidentID: "INC-20261128-0001", Dataset: ref})
	require.NoError(t, err)
	var plan NoticePlan
	require.NoError(t, v.Get(&plan))
	require.Equal(t, 3000, plan.RangeRows)
	require.Equal(t, 2, plan.Parallel)
	require.Equal(t, 7000, plan.Rows)
	require.Len(t, plan.Starts, 3)
	for i, s := range plan.Starts {
		require.Equal(t, i*3000, s.Index)
	}
	// Ranges side by side, in any order, cover everything once.
	var total NoticeCounts
	for _, i := range []int{2, 0, 1} {
		res, err := f.chunk(NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: ref, From: plan.Starts[i], MaxRows: plan.RangeRows, Notice: notice()})
		require.NoError(t, err)
		total.Add(res.Counts)
		if i < 2 {
			require.Equal(t, plan.Starts[i+1], res.Next)
		} else {
			require.True(t, res.Done)
		}
	}
	require.Equal(t, 7000, total.Rows)
	require.Equal(t, 6997, total.Sent)
	checkDeliveries(t, f.srv, wantAddresses(6997))

	// The outbox needs no plan.
	a, _ := newTestActivities(t)
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(a)
	v, err = env.ExecuteActivity(a.PlanNotices, NoticePlanInput{IncidentID: "INC-20261128-0001", Dataset: ref})
	require.NoError(t, err)
	var outbox NoticePlan
	require.NoError(t, v.Get(&outbox))
	require.Empty(t, outbox.Starts)
}

func TestSendGridReportOnce(t *testing.T) {
	f := newSGFixture(t)
	ctx := context.Background()
	m := bmail.Message{Key: "INC-20261128-0001/authority/gdpr-art33-authority", From: "privacy@example.test", To: "dpa@authority.example",
		Subject: "Art. 33 report", Text: "report", Headers: map[string]string{"X-Breach-Incident": "INC-20261128-0001"}}
	f.srv.Inject(sendgridtest.Fault{Kind: sendgridtest.RateLimit, Wait: 2 * time.Second})
	_, err := f.sg.Send(ctx, m)
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, ErrTypeSendGridRateLimited, app.Type())
	require.Greater(t, app.NextRetryDelay(), time.Second)
	first, err := f.sg.Send(ctx, m)
	require.NoError(t, err)
	require.False(t, first.Duplicate)
	again, err := f.sg.Send(ctx, m)
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, 1, f.srv.Deliveries("dpa@authority.example"))
}

// checkContract validates one request against the official SendGrid contracts; a violation
// fails the test (from the server's goroutine: t.Errorf is safe there).
func checkContract(t *testing.T, c *sendgridtest.Contract, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read request: %v", err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := c.Request(r, body); err != nil {
		t.Errorf("%s %s violates the SendGrid contract: %v", r.Method, r.URL.Path, err)
	}
}

func (f *sgFixture) subjectKey(incidentID, email string) string {
	f.t.Helper()
	k, err := subjectKey(f.acts.Pseudonyms, incidentID, email)
	require.NoError(f.t, err)
	return k
}
