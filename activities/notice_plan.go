package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/subjects"
)

type NoticePlanInput = incident.NoticePlanInput

type NoticePlan = incident.NoticePlan

// planHeartbeatRows is how often PlanNotices heartbeats while it reads.
const planHeartbeatRows = 50000

// PlanNotices plans the customer alerts. With SendGrid it reads the dataset once to find
// where each range of rows starts, so that ranges can be sent side by side; with the outbox,
// chunks follow one another and nothing is read.
func (a *Activities) PlanNotices(ctx context.Context, in NoticePlanInput) (NoticePlan, error) {
	sg, ok := a.Mail.(*SendGridMail)
	if !ok {
		return NoticePlan{}, nil
	}
	plan := NoticePlan{RangeRows: sg.rangeRows(), Parallel: sg.parallel()}
	f, err := a.Datasets.Open(ctx, in.Dataset)
	if err != nil {
		return plan, fmt.Errorf("open subjects dataset %s: %w", in.Dataset.URI, err)
	}
	defer f.Close()
	rd, err := a.SubjectLimits.NewReader(f, nil)
	if err != nil {
		return plan, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSubjectsUnreadable, nil)
	}
	if in.From.Offset > 0 {
		if _, err := f.Seek(in.From.Offset, io.SeekStart); err != nil {
			return plan, fmt.Errorf("seek subjects dataset %s: %w", in.Dataset.URI, err)
		}
		rd = subjects.Resume(f, rd.Header(), in.From, nil)
	}
	next := in.From
	for {
		if (next.Index-in.From.Index)%plan.RangeRows == 0 {
			plan.Starts = append(plan.Starts, next)
		}
		if _, err := rd.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return plan, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSubjectsUnreadable, nil)
		}
		next = rd.Position()
		plan.Rows++
		if plan.Rows%planHeartbeatRows == 0 {
			activity.RecordHeartbeat(ctx, plan.Rows)
			if err := ctx.Err(); err != nil {
				return plan, err
			}
		}
	}
	// A start at the very end would be an empty range; but keep one, so an empty dataset
	// still runs (and finishes) its one chunk.
	if n := len(plan.Starts); n > 1 && plan.Starts[n-1].Index == next.Index {
		plan.Starts = plan.Starts[:n-1]
	}
	return plan, nil
}

type NoticeFinishInput = incident.NoticeFinishInput

type NoticeSummary = incident.NoticeSummary

// FinishNotices reads the ledger's account of the alerts and writes the list of people who
// may have been notified twice (an ambiguous batch resent without Email Activity to check),
// for the post-incident report.
func (a *Activities) FinishNotices(ctx context.Context, in NoticeFinishInput) (NoticeSummary, error) {
	sg, ok := a.Mail.(*SendGridMail)
	if !ok || sg.Ledger == nil {
		return NoticeSummary{}, nil
	}
	p, keys, err := sg.Ledger.Report(ctx, in.IncidentID)
	if err != nil {
		return NoticeSummary{}, err
	}
	sum := NoticeSummary{Ledger: true,
		Sent:               p.Subjects[ledger.Sent] + p.Subjects[ledger.PossiblyDuplicated],
		Rejected:           p.Subjects[ledger.Rejected],
		Invalid:            p.Subjects[ledger.InvalidAddress],
		Duplicates:         p.Subjects[ledger.Duplicate],
		PossiblyDuplicated: p.Subjects[ledger.PossiblyDuplicated],
		FailedBatches:      p.Batches[ledger.Failed],
	}
	batches, err := sg.Ledger.Batches(ctx, in.IncidentID)
	if err != nil {
		return NoticeSummary{}, err
	}
	for _, b := range batches {
		if b.AmbiguousAttempts > 0 && strings.Contains(b.Key, "/notice/") {
			sum.AmbiguousBatches++
		}
	}
	if len(keys) == 0 {
		return sum, nil
	}
	people, err := ledgerKeys(ctx, sg, a.Pseudonyms, in.IncidentID)
	if err != nil {
		return NoticeSummary{}, err
	}
	list, err := a.possiblyDuplicatedRows(ctx, in, people, keys)
	if err != nil {
		return NoticeSummary{}, err
	}
	// The list names each person by subject key, dataset row and line; no address or name.
	key, err := records.PossiblyDuplicatedKey(in.IncidentID)
	if err != nil {
		return NoticeSummary{}, pathError(err)
	}
	if sum.List, err = a.put(ctx, key, []byte(list)); err != nil {
		return NoticeSummary{}, err
	}
	return sum, nil
}

// possiblyDuplicatedRows lists keys with the dataset row and line of each, so that people can
// be found without the list naming them. Keys of people not in this dataset (an earlier one)
// have no row.
func (a *Activities) possiblyDuplicatedRows(ctx context.Context, in NoticeFinishInput, people subjectKeys, keys []string) (string, error) {
	want := make(map[string]*[2]int, len(keys))
	for _, k := range keys {
		want[k] = nil
	}
	if f, err := a.Datasets.Open(ctx, in.Dataset); err == nil {
		defer f.Close()
		if rd, err := a.SubjectLimits.NewReader(f, nil); err == nil {
			for {
				row, err := rd.Next()
				if err != nil {
					break
				}
				if !row.Mailable() {
					continue
				}
				k := people.address(row.Email)
				if v, ok := want[k]; ok && v == nil {
					want[k] = &[2]int{row.Index, row.Line}
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("subject_key,row,line\n")
	for _, k := range keys {
		b.WriteString(k)
		if v := want[k]; v != nil {
			b.WriteString("," + strconv.Itoa(v[0]) + "," + strconv.Itoa(v[1]))
		} else {
			b.WriteString(",,")
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
