package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/subjects"
	"github.com/breachops/breach/templates"
)

type NoticeContent = incident.NoticeContent

type NoticeRoute = incident.NoticeRoute

type NoticeChunkInput = incident.NoticeChunkInput

type NoticeCounts = incident.NoticeCounts

type NoticeChunkResult = incident.NoticeChunkResult

type noticeView struct {
	NoticeContent
	IncidentID   string
	Drill        bool
	Name         string
	Categories   []string
	Jurisdiction string
}

// SendNotices sends the customer notice to every mailable subject in a range of rows, exactly
// once per address. It heartbeats its position, so a retry resumes where the last attempt
// stopped.
//
// Through SendGrid (Mail is a *SendGridMail), people go out in batches of up to 1,000 per
// request, kept exactly once by the notification ledger (see SendGridMail.sendNotices). With
// the outbox, each notice is keyed by a pseudonym of its address, and a key already sent is
// skipped.
func (a *Activities) SendNotices(ctx context.Context, in NoticeChunkInput) (NoticeChunkResult, error) {
	rs, err := a.records()
	if err != nil {
		return NoticeChunkResult{Next: in.From}, err
	}
	if sg, ok := a.Mail.(*SendGridMail); ok {
		return sg.sendNotices(ctx, a.Datasets, a.SubjectLimits, a.Pseudonyms, rs, in)
	}
	res := NoticeChunkResult{Next: in.From}
	if activity.HasHeartbeatDetails(ctx) {
		var hb NoticeChunkResult
		if err := activity.GetHeartbeatDetails(ctx, &hb); err == nil && hb.Next.Offset >= in.From.Offset {
			res = hb
		}
	}
	dups, err := readDuplicates(ctx, rs, in.IncidentID, in.Dataset.SHA256, res.Next.Index+1, in.From.Index+in.MaxRows)
	if err != nil {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("read the scope's duplicate list for %s: %v; re-run the scope phase", in.IncidentID, err), ErrTypeSubjectsChanged, nil)
	}
	keys, err := a.outboxKeys(ctx, in.IncidentID)
	if err != nil {
		return res, err
	}
	rd, f, err := openAt(ctx, a.Datasets, a.SubjectLimits, in.Dataset, res.Next)
	if err != nil {
		return res, err
	}
	defer f.Close()
	limit := in.MaxRows - (res.Next.Index - in.From.Index)
	for n := 0; n < limit; n++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			res.Done = true
			break
		}
		if err != nil {
			return res, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSubjectsUnreadable, nil)
		}
		res.Counts.Rows++
		switch {
		case dups[row.Index]:
			res.Counts.Duplicates++
		case !row.IsSubject():
			res.Counts.Unusable++
		case !row.Mailable():
			res.Counts.Invalid++
		default:
			route, ok := in.Notice.Route(row.Jurisdiction)
			if !ok {
				res.Counts.NotCovered++
				break
			}
			dup, err := a.sendNotice(ctx, in, keys, row, route)
			if err != nil {
				return res, err
			}
			if dup {
				res.Counts.AlreadySent++
			} else {
				res.Counts.Sent++
			}
		}
		res.Next = rd.Position()
		if res.Counts.Rows%50 == 0 {
			activity.RecordHeartbeat(ctx, res)
		}
	}
	if !res.Done {
		// Peek is not possible on a CSV stream; an exact multiple of MaxRows ends with an empty chunk.
		res.Next = rd.Position()
	}
	return res, nil
}

func (a *Activities) sendNotice(ctx context.Context, in NoticeChunkInput, keys subjectKeys, row subjects.Row, route NoticeRoute) (duplicate bool, err error) {
	tmpl := route.Template
	if !templates.Has(tmpl) {
		tmpl = "gdpr-art34-notice"
	}
	out, err := templates.Render(tmpl, noticeView{
		NoticeContent: in.Notice, IncidentID: in.IncidentID, Drill: in.Drill, Name: row.Name, Categories: row.Categories,
		Jurisdiction: row.Jurisdiction,
	})
	if err != nil {
		return false, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	subject, body := templates.SplitSubject(out)
	key := keys.address(row.Email)
	rc, err := a.Mail.Send(ctx, mail.Message{
		Key:     in.IncidentID + "/notices/" + key,
		From:    in.Notice.From,
		To:      row.Email,
		Subject: subject,
		Text:    body,
		Date:    a.now(),
		Headers: map[string]string{"X-Breach-Incident": in.IncidentID},
	})
	if err != nil {
		// The error must not carry the address into history: name the row instead.
		return false, fmt.Errorf("send notice for dataset row %d (line %d) of %s: %s", row.Index, row.Line, in.IncidentID, redact(err, row))
	}
	return rc.Duplicate, nil
}

func redact(err error, row subjects.Row) string {
	msg := err.Error()
	for _, s := range []string{row.Email, row.Name, row.ID} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}
