package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	incA = "INC-20261128-0000000000000A01"
	incB = "INC-20261128-0000000000000B02"
	incC = "INC-20261129-0000000000000C03"
)

func TestRecordKeepsEveryVersionAndChainsThem(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *Register, _ tamperer) {
		ctx := context.Background()
		e1, added, err := r.Record(ctx, declared(incA))
		require.NoError(t, err)
		require.True(t, added)
		require.Equal(t, int64(1), e1.Seq)
		require.Equal(t, 1, e1.Version)
		require.Equal(t, "", e1.Prev)
		require.Equal(t, StatusOpen, e1.Content.Status)
		require.Equal(t, "declared", e1.Change)
		require.Len(t, e1.Hash, 64)

		// The same content twice (an activity retried) is one version.
		again, added, err := r.Record(ctx, declared(incA))
		require.NoError(t, err)
		require.False(t, added)
		require.Equal(t, e1.Hash, again.Hash)

		b1 := mustRecord(t, r, declared(incB))
		e2 := mustRecord(t, r, unlikely(incA))
		require.Equal(t, int64(3), e2.Seq)
		require.Equal(t, 2, e2.Version)
		require.Equal(t, b1.Hash, e2.Prev, "each entry names the one before it in the register")
		require.Equal(t, e1.Hash, e2.PrevVersion, "each version names the incident's version before it")
		require.Contains(t, e2.Change, "decided: risk unlikely")

		h, err := r.History(ctx, incA)
		require.NoError(t, err)
		require.Len(t, h, 2)
		require.Equal(t, StatusOpen, h[0].Content.Status, "the first version keeps what it said")
		require.Equal(t, StatusNotNotified, h[1].Content.Status)

		_, err = r.History(ctx, incC)
		require.ErrorIs(t, err, ErrNotFound)
		require.True(t, mustVerify(t, r).OK())
	})
}

// An incident decided "unlikely to result in a risk" is in the register with its reasoning and
// no obligations: the Art. 33(5) record of a breach that was not notified.
func TestUnlikelyRiskIsRegisteredWithItsReasoningAndNoObligations(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *Register, _ tamperer) {
		mustRecord(t, r, declared(incA))
		mustRecord(t, r, unlikely(incA))
		latest, err := r.Latest(context.Background())
		require.NoError(t, err)
		require.Len(t, latest, 1)
		c := latest[0].Effective()
		require.Equal(t, StatusNotNotified, c.Status)
		require.Equal(t, "unlikely", c.Decision.Risk)
		require.Contains(t, c.Decision.Reasoning, "encrypted with a key kept elsewhere")
		require.NotNil(t, c.Obligations)
		require.Empty(t, c.Obligations)
		var md strings.Builder
		require.NoError(t, WriteEntryMarkdown(&md, latest[0]))
		require.Contains(t, md.String(), "None: the law required no notification.")
		require.Contains(t, md.String(), "Reasoning: The backup was encrypted")
	})
}

func TestCorrectionKeepsBothVersions(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *Register, _ tamperer) {
		ctx := context.Background()
		mustRecord(t, r, unlikely(incA))
		_, err := r.Correct(ctx, incA, CorrectRequest{Field: "measures", Value: "Bucket made private; access logs kept; keys rotated.", By: "cli:dpo"})
		var ie *InputError
		require.ErrorAs(t, err, &ie, "a correction without a reason is refused")
		_, err = r.Correct(ctx, incA, CorrectRequest{Field: "risk", Value: "high", Reason: "wrong", By: "cli:dpo"})
		require.ErrorAs(t, err, &ie, "computed facts are not corrected here")
		_, err = r.Correct(ctx, incB, CorrectRequest{Field: "measures", Value: "x", Reason: "why", By: "cli:dpo"})
		require.ErrorIs(t, err, ErrNotFound)

		c, err := r.Correct(ctx, incA, CorrectRequest{Field: "measures", Value: "Bucket made private; access logs kept; keys rotated.",
			Reason: "the key rotation was left out", By: "cli:dpo"})
		require.NoError(t, err)
		require.Equal(t, 2, c.Version)
		h, err := r.History(ctx, incA)
		require.NoError(t, err)
		require.Len(t, h, 2)
		require.Equal(t, "Bucket made private; access logs kept.", h[0].Effective().Measures, "the old version keeps the old text")
		require.Equal(t, "Bucket made private; access logs kept; keys rotated.", h[1].Effective().Measures)
		require.Equal(t, []Change{{Field: "remedial_action", From: "Bucket made private; access logs kept.",
			To: "Bucket made private; access logs kept; keys rotated."}}, Diff(h[0], h[1]))

		// A later version recorded by the incident keeps the correction in force.
		closed := unlikely(incA)
		closed.ClosedAt, closed.ClosedBy = aware.Add(48*time.Hour), "cli:ic"
		e3 := mustRecord(t, r, closed)
		require.Equal(t, 3, e3.Version)
		require.Equal(t, "Bucket made private; access logs kept; keys rotated.", e3.Effective().Measures)
		require.Len(t, e3.Corrections, 1)

		// The same content again is still one version, correction or not.
		_, added, err := r.Record(ctx, closed)
		require.NoError(t, err)
		require.False(t, added)
		require.True(t, mustVerify(t, r).OK())
	})
}

// An entry edited by hand fails verification, which names it; so does one deleted, whether in
// the middle, at the end, or every version of an incident.
func TestVerifyNamesAnEditedOrDeletedEntry(t *testing.T) {
	type tamper struct {
		name string
		do   func(t *testing.T, tm tamperer)
		// named are the entries the report must name, by number.
		named []int64
		say   string
	}
	cases := []tamper{
		{"reasoning edited", func(t *testing.T, tm tamperer) {
			tm.edit(t, 3, replace(t, "nobody downloaded it", "nobody could download it"), false)
		}, []int64{3}, "was changed"},
		{"reasoning edited and its hash recomputed", func(t *testing.T, tm tamperer) {
			tm.edit(t, 3, replace(t, "nobody downloaded it", "nobody could download it"), true)
		}, []int64{3}, "changed or replaced"},
		{"a field added", func(t *testing.T, tm tamperer) {
			tm.edit(t, 2, replace(t, `"version":1,`, `"version":1,"note":"x",`), true)
		}, []int64{2}, "not a register entry"},
		{"middle entry deleted", func(t *testing.T, tm tamperer) { tm.remove(t, 2) }, []int64{3}, "entry 2 is missing"},
		{"last entry deleted", func(t *testing.T, tm tamperer) { tm.remove(t, 5) }, nil, "newest entries were deleted"},
		{"every version of an incident deleted", func(t *testing.T, tm tamperer) {
			tm.remove(t, 2)
			tm.remove(t, 4)
		}, []int64{3, 5}, "missing"},
	}
	for _, s := range stores() {
		t.Run(s.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r, tm := s.open(t)
					mustRecord(t, r, declared(incA)) // 1
					mustRecord(t, r, declared(incB)) // 2
					mustRecord(t, r, unlikely(incA)) // 3
					mustRecord(t, r, unlikely(incB)) // 4
					mustRecord(t, r, notified(incC)) // 5
					require.True(t, mustVerify(t, r).OK())
					c.do(t, tm)
					rep := mustVerify(t, r)
					require.False(t, rep.OK(), "verify passed a register that was tampered with")
					text := fmt.Sprint(rep.Problems)
					require.Contains(t, text, c.say)
					for _, seq := range c.named {
						found := false
						for _, p := range rep.Problems {
							found = found || p.Seq == seq && p.IncidentID != "" && p.Where != ""
						}
						require.True(t, found, "entry %d is not named: %s", seq, text)
					}
				})
			}
		})
	}
}

func TestVerifyChecksAHeadNotedEarlier(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *Register, tm tamperer) {
		mustRecord(t, r, declared(incA))
		e := mustRecord(t, r, unlikely(incA))
		rep, err := r.Verify(context.Background(), e.Hash)
		require.NoError(t, err)
		require.True(t, rep.OK(), "%v", rep.Problems)
		require.Equal(t, e.Hash, rep.Head)
		tm.edit(t, 2, replace(t, "nobody downloaded it", "nobody could download it"), true)
		rep, err = r.Verify(context.Background(), e.Hash)
		require.NoError(t, err)
		require.Contains(t, fmt.Sprint(rep.Problems), "noted earlier as the head")
	})
}

// Appends from several processes (here registers opened twice) take turns: numbers stay
// unique and the chain intact.
func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	for _, s := range stores() {
		t.Run(s.name, func(t *testing.T) {
			r, _ := s.open(t)
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("INC-20261128-%016X", i)
					for v := range 5 {
						c := declared(id)
						c.Description = fmt.Sprintf("version %d", v)
						if _, _, err := r.Record(context.Background(), c); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			rep := mustVerify(t, r)
			require.True(t, rep.OK(), "%v", rep.Problems)
			require.Equal(t, 40, rep.Entries)
			require.Equal(t, 8, rep.Incidents)
		})
	}
}

func TestAppendOnlyInPostgres(t *testing.T) {
	r, _ := openPostgresForTest(t)
	mustRecord(t, r, declared(incA))
	p := r.b.(*postgres)
	for _, q := range []string{`UPDATE breach_register SET body = body || ' '`, `DELETE FROM breach_register`, `TRUNCATE breach_register`} {
		_, err := p.db.Exec(q)
		require.Error(t, err, q)
		require.Contains(t, err.Error(), "append-only", q)
	}
}

func TestRecordRefusesWhatIsNotAnIncident(t *testing.T) {
	r, err := OpenFiles(t.TempDir())
	require.NoError(t, err)
	_, _, err = r.Record(context.Background(), Content{IncidentID: "../../etc/passwd"})
	var ie *InputError
	require.True(t, errors.As(err, &ie), "%v", err)
}
