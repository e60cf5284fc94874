package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/sendgrid"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

// heartbeatEvery keeps a chunk alive while one request takes long (a slow SendGrid), well
// inside workflows.NoticeHeartbeatTimeout.
const heartbeatEvery = 2 * time.Second

// batchProgress is the heartbeat of a chunk on the SendGrid path: where the first unfinished
// block starts, the counts of the blocks before it, and which batches of that block were
// accepted. A retried chunk resumes there: earlier blocks are not read again, and accepted
// batches of the block are not looked at again.
type batchProgress struct {
	Next   subjects.Position `json:"next"`
	Counts NoticeCounts      `json:"counts"`
	// Block counts the accepted batches of the unfinished block, Done names them (labels).
	Block NoticeCounts `json:"block"`
	Done  []string     `json:"done,omitempty"`
	// LastBatch is the key of the last batch accepted.
	LastBatch string `json:"last_batch,omitempty"`
}

func (p batchProgress) clone() batchProgress {
	p.Done = slices.Clone(p.Done)
	return p
}

// noticeBlock is what one block of rows turns into: row counts, the outcomes of rows that get
// no notice, and a batch per notice group.
type noticeBlock struct {
	start, end subjects.Position
	rows       NoticeCounts
	other      []ledger.SubjectOutcome
	batches    []labelledBatch
	eof        bool
}

type labelGroup struct {
	group      *noticeGroup
	recipients []sendgrid.Recipient
}

type labelledBatch struct {
	label string
	batch sendgrid.Batch
}

// heartbeater records the latest progress now and every heartbeatEvery.
type heartbeater struct {
	mu   sync.Mutex
	last batchProgress
	stop chan struct{}
	done chan struct{}
}

func startHeartbeats(ctx context.Context, p batchProgress) *heartbeater {
	h := &heartbeater{last: p.clone(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				h.mu.Lock()
				p := h.last.clone()
				h.mu.Unlock()
				activity.RecordHeartbeat(ctx, p)
			}
		}
	}()
	return h
}

func (h *heartbeater) record(ctx context.Context, p batchProgress) {
	p = p.clone()
	h.mu.Lock()
	h.last = p
	h.mu.Unlock()
	activity.RecordHeartbeat(ctx, p)
}

func (h *heartbeater) close() {
	close(h.stop)
	<-h.done
}

// sendNotices is SendNotices on the SendGrid path: the rows of the chunk are read as a stream,
// cut into blocks of NoticeBlockRows, and each block's people are sent in one batch per notice
// group, one batch after another, each exactly once through the ledger. Reading the next block
// overlaps with sending the current one; no more than two blocks are held at a time.
func (s *SendGridMail) sendNotices(ctx context.Context, ds Datasets, lim subjects.Limits, key *pseudonym.Key, rs *store.Store, in NoticeChunkInput) (NoticeChunkResult, error) {
	if in.MaxRows <= 0 {
		in.MaxRows = NoticeBlockRows
	}
	st := batchProgress{Next: in.From}
	if activity.HasHeartbeatDetails(ctx) {
		var hb batchProgress
		if err := activity.GetHeartbeatDetails(ctx, &hb); err == nil && hb.Next.Index >= in.From.Index && hb.Next.Offset >= in.From.Offset {
			st = hb
		}
	}
	end := in.From.Index + in.MaxRows
	res := NoticeChunkResult{Next: st.Next, Counts: st.Counts}
	dups, err := readDuplicates(ctx, rs, in.IncidentID, in.Dataset.SHA256, st.Next.Index+1, end)
	if err != nil {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("read the scope's duplicate list for %s: %v; re-run the scope phase", in.IncidentID, err), ErrTypeSubjectsChanged, nil)
	}
	keys, err := ledgerKeys(ctx, s, key, in.IncidentID)
	if err != nil {
		return res, err
	}
	rd, f, err := openAt(ctx, ds, lim, in.Dataset, st.Next)
	if err != nil {
		return res, err
	}
	defer f.Close()

	hb := startHeartbeats(ctx, st)
	defer hb.close()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks := make(chan noticeBlock, 1)
	var readErr error
	go func() {
		defer close(blocks)
		readErr = s.readBlocks(rctx, rd, in, keys, dups, st.Next, end, blocks)
	}()
	eof := false
	var sendErr error
	for blk := range blocks {
		if sendErr == nil {
			sendErr = s.sendBlock(ctx, in, &st, blk, hb)
			eof = blk.eof
		}
		if sendErr != nil {
			cancel() // and drain, so the reader ends
		}
	}
	res = NoticeChunkResult{Next: st.Next, Done: eof, Counts: st.Counts}
	if sendErr != nil {
		return res, sendErr
	}
	if readErr != nil {
		return res, readErr
	}
	return res, ctx.Err()
}

// readBlocks reads rows from start up to row index end (or the end of the dataset) and sends
// one noticeBlock per block of rows. Block boundaries fall on multiples of NoticeBlockRows.
func (s *SendGridMail) readBlocks(ctx context.Context, rd *subjects.Reader, in NoticeChunkInput, keys subjectKeys, dups map[int]bool,
	start subjects.Position, end int, out chan<- noticeBlock) error {
	groups := newNoticeGroups(in)
	sha := in.Dataset.SHA256
	if len(sha) > 12 {
		sha = sha[:12]
	} else if sha == "" {
		sha = "unpinned"
	}
	pos := start
	for pos.Index < end {
		blockEnd := min(end, (pos.Index/NoticeBlockRows+1)*NoticeBlockRows)
		blk := noticeBlock{start: pos}
		// By label: people of different jurisdictions share a group when their text is the same.
		byLabel := map[string]*labelGroup{}
		for pos.Index < blockEnd {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				blk.eof = true
				break
			}
			if err != nil {
				return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSubjectsUnreadable, nil)
			}
			pos = rd.Position()
			blk.rows.Rows++
			switch {
			case dups[row.Index]:
				blk.rows.Duplicates++
				blk.other = append(blk.other, ledger.SubjectOutcome{SubjectKey: keys.other(row), Outcome: ledger.Duplicate})
			case !row.IsSubject():
				blk.rows.Unusable++
			case !row.Mailable():
				blk.rows.Invalid++
				blk.other = append(blk.other, ledger.SubjectOutcome{SubjectKey: keys.other(row), Outcome: ledger.InvalidAddress})
			default:
				route, ok := in.Notice.Route(row.Jurisdiction)
				if !ok {
					blk.rows.NotCovered++
					break
				}
				grp, err := groups.group(route, row)
				if err != nil {
					return err
				}
				lg := byLabel[grp.label]
				if lg == nil {
					lg = &labelGroup{group: grp}
					byLabel[grp.label] = lg
				}
				lg.recipients = append(lg.recipients, sendgrid.Recipient{
					Key:           keys.address(row.Email),
					Email:         row.Email,
					Substitutions: grp.substitutions(row),
				})
			}
		}
		blk.end = pos
		first, last := blk.start.Index+1, blk.end.Index
		for _, lg := range byLabel {
			grp := lg.group
			// The scope's list has every repeated address already; this is the safety net
			// that keeps each request within the contract (each address once) whatever the
			// list says. The reader has validated every address.
			seen := make(map[string]struct{}, len(lg.recipients))
			rs := lg.recipients[:0]
			for _, r := range lg.recipients {
				n := mail.Normalize(r.Email)
				if _, dup := seen[n]; dup {
					blk.rows.Duplicates++
					continue
				}
				seen[n] = struct{}{}
				rs = append(rs, r)
			}
			blk.batches = append(blk.batches, labelledBatch{label: grp.label, batch: sendgrid.Batch{
				IncidentID: in.IncidentID,
				Key:        fmt.Sprintf("%s/notice/%s/%07d-%07d/%s", in.IncidentID, sha, first, last, grp.label),
				From:       in.Notice.From,
				FromName:   in.Notice.OrgName,
				Subject:    grp.subject,
				Text:       grp.text,
				Categories: []string{"breach-notice", grp.template},
				Sandbox:    in.Drill,
				Recipients: rs,
			}})
		}
		sort.Slice(blk.batches, func(i, j int) bool { return blk.batches[i].label < blk.batches[j].label })
		select {
		case out <- blk:
		case <-ctx.Done():
			return ctx.Err()
		}
		if blk.eof {
			return nil
		}
	}
	return nil
}

// sendBlock sends a block's batches that are not done yet, records the outcomes of its other
// rows, and moves the heartbeat past it.
func (s *SendGridMail) sendBlock(ctx context.Context, in NoticeChunkInput, st *batchProgress, blk noticeBlock, hb *heartbeater) error {
	if st.Next != blk.start {
		st.Block, st.Done = NoticeCounts{}, nil
	}
	for _, lb := range blk.batches {
		if slices.Contains(st.Done, lb.label) {
			continue
		}
		c, err := s.sendBatch(ctx, lb.batch, in.Rerun)
		if err != nil {
			return err
		}
		st.Block.Add(c)
		st.Done = append(st.Done, lb.label)
		st.LastBatch = lb.batch.Key
		hb.record(ctx, *st)
	}
	if len(blk.other) > 0 {
		if err := s.Ledger.RecordOutcomes(ctx, in.IncidentID, blk.other); err != nil {
			return err
		}
	}
	st.Counts.Add(blk.rows)
	st.Counts.Add(st.Block)
	st.Next, st.Block, st.Done = blk.end, NoticeCounts{}, nil
	hb.record(ctx, *st)
	return nil
}

// sendBatch is the exactly-once protocol for one batch. A batch the ledger holds as accepted
// is skipped. One an earlier attempt left sending or ambiguous may have reached SendGrid: its
// people already recorded are dropped, and the rest are looked up in Email Activity by batch
// key (once the activity lag has passed); without Email Activity they are sent again and
// recorded as possibly duplicated. Then the batch is marked sending, sent (split on a 400),
// its people's outcomes are recorded, and it is marked accepted. careful (a later alerts run)
// drops people that earlier runs notified under other batch keys.
func (s *SendGridMail) sendBatch(ctx context.Context, b sendgrid.Batch, careful bool) (NoticeCounts, error) {
	var c NoticeCounts
	led := s.Ledger
	inc, key := b.IncidentID, b.Key
	rec, err := led.Batch(ctx, inc, key)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return c, err
	}
	outcome := ledger.Sent
	switch rec.State {
	case ledger.Accepted:
		// Accepted after the chunk's last heartbeat: count what became of its people.
		_, done, err := s.pending(ctx, inc, b.Recipients)
		if err != nil {
			return c, err
		}
		c.Add(done)
		return c, nil
	case ledger.Sending, ledger.Ambiguous, ledger.Failed:
		lastAttempt := rec.UpdatedAt
		if rec.State == ledger.Sending {
			// The attempt that marked it never recorded an outcome: its worker stopped, maybe
			// after the request left.
			if err := led.MarkAmbiguous(ctx, inc, key, "attempt interrupted before its outcome was recorded"); err != nil {
				return c, err
			}
			rec.AmbiguousAttempts++
		}
		rest, done, err := s.pending(ctx, inc, b.Recipients)
		if err != nil {
			return c, err
		}
		c.Add(done)
		b.Recipients = rest
		// Once ambiguous, always reconciled: a later plain failure does not tell whether
		// the ambiguous request went through.
		if rec.AmbiguousAttempts > 0 && len(rest) > 0 {
			c.Ambiguous++
			rest, reached, err := s.reconcile(ctx, b, lastAttempt)
			switch {
			case errors.Is(err, sendgrid.ErrNoEmailActivity):
				// A missed legal notice is worse than two: send again, and say so.
				outcome = ledger.PossiblyDuplicated
			case err != nil:
				return c, err
			default:
				c.AlreadySent += reached
				b.Recipients = rest
			}
		}
	default:
		if careful {
			rest, done, err := s.pending(ctx, inc, b.Recipients)
			if err != nil {
				return c, err
			}
			c.Add(done)
			b.Recipients = rest
		}
	}
	if len(b.Recipients) == 0 {
		id := rec.MessageID
		if id == "" {
			id = "reconciled"
		}
		return c, led.MarkAccepted(ctx, inc, key, id)
	}

	if err := led.MarkSending(ctx, inc, key); errors.Is(err, ledger.ErrAccepted) {
		c.AlreadySent += len(b.Recipients)
		return c, nil
	} else if err != nil {
		return c, err
	}
	var ids []string
	for round := 1; ; round++ {
		res, sendErr := s.Client.SendBatch(ctx, b)
		if errors.Is(sendErr, sendgrid.ErrBadRequest) {
			if refused, ok := refusedRecipients(sendgrid.BadRequestFields(sendErr), len(b.Recipients)); ok && round <= maxNamedRounds {
				// SendGrid named the addresses it refuses: record them before anything
				// else, so that no retry has to find them again, and send the rest.
				rest, outs := splitRefused(b, refused)
				if err := led.RecordOutcomes(ctx, inc, outs); err != nil {
					return c, err
				}
				c.Rejected += len(outs)
				if b.Recipients = rest; len(rest) == 0 {
					break
				}
				continue
			}
			// It did not say who: bisect.
			res, sendErr = s.Client.SendSplit(ctx, b)
		}
		outs := make([]ledger.SubjectOutcome, 0, len(res.Accepted)+len(res.Rejected))
		for _, i := range res.Accepted {
			outs = append(outs, ledger.SubjectOutcome{SubjectKey: b.Recipients[i].Key, BatchKey: key, Outcome: outcome})
		}
		for _, r := range res.Rejected {
			outs = append(outs, ledger.SubjectOutcome{SubjectKey: b.Recipients[r.Index].Key, BatchKey: key, Outcome: ledger.Rejected})
		}
		if sendErr == nil {
			// Accepted: the people's outcomes and the batch's state in one transaction.
			ids = append(ids, res.MessageIDs...)
			if len(ids) == 0 {
				ids = append(ids, "refused")
			}
			if err := led.RecordAccepted(ctx, inc, key, strings.Join(ids, ","), outs); err != nil {
				// Left sending: a retry reconciles the batch.
				return c, err
			}
		} else if err := led.RecordOutcomes(ctx, inc, outs); err != nil {
			// Left sending: a retry reconciles the batch.
			return c, errors.Join(err, sendErr)
		}
		if outcome == ledger.PossiblyDuplicated {
			c.PossiblyDuplicated += len(res.Accepted)
		} else {
			c.Sent += len(res.Accepted)
		}
		c.Rejected += len(res.Rejected)
		if sendErr != nil {
			mark := led.MarkFailed
			if errors.Is(sendErr, sendgrid.ErrAmbiguous) {
				mark = led.MarkAmbiguous
			}
			if err := mark(ctx, inc, key, sendErr.Error()); err != nil {
				return c, errors.Join(sendErr, err)
			}
			return c, sendGridError(sendErr, s.activityLag())
		}
		return c, nil
	}
	if len(ids) == 0 {
		ids = append(ids, "refused")
	}
	return c, led.MarkAccepted(ctx, inc, key, strings.Join(ids, ","))
}

// maxNamedRounds bounds how often a batch is resent without the addresses SendGrid named,
// before bisecting instead.
const maxNamedRounds = 3

var recipientField = regexp.MustCompile(`^personalizations\.(\d+)\.(?:to|cc|bcc)\.\d+\.email$`)

// refusedRecipients reads which recipients a 400 refuses from its field errors
// ("personalizations.12.to.0.email"). ok is false unless every error names a recipient of
// the batch: then only bisection can tell.
func refusedRecipients(fields []sendgrid.FieldError, n int) (idx map[int]bool, ok bool) {
	if len(fields) == 0 {
		return nil, false
	}
	idx = map[int]bool{}
	for _, f := range fields {
		m := recipientField.FindStringSubmatch(f.Field)
		if m == nil {
			return nil, false
		}
		i, err := strconv.Atoi(m[1])
		if err != nil || i >= n {
			return nil, false
		}
		idx[i] = true
	}
	return idx, true
}

// splitRefused drops the refused recipients from b and returns the rest and their outcomes.
func splitRefused(b sendgrid.Batch, refused map[int]bool) ([]sendgrid.Recipient, []ledger.SubjectOutcome) {
	rest := make([]sendgrid.Recipient, 0, len(b.Recipients)-len(refused))
	var outs []ledger.SubjectOutcome
	for i, r := range b.Recipients {
		if refused[i] {
			outs = append(outs, ledger.SubjectOutcome{SubjectKey: r.Key, BatchKey: b.Key, Outcome: ledger.Rejected})
		} else {
			rest = append(rest, r)
		}
	}
	return rest, outs
}

// pending splits recipients into those with no final outcome in the ledger yet, and counts
// of those with one (notified, or refused by SendGrid).
func (s *SendGridMail) pending(ctx context.Context, incidentID string, rs []sendgrid.Recipient) ([]sendgrid.Recipient, NoticeCounts, error) {
	var c NoticeCounts
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.Key
	}
	known, err := s.Ledger.Subjects(ctx, incidentID, keys)
	if err != nil {
		return nil, c, err
	}
	rest := make([]sendgrid.Recipient, 0, len(rs))
	for _, r := range rs {
		o, ok := known[r.Key]
		switch {
		case !ok:
			rest = append(rest, r)
		case o.Outcome == ledger.Sent, o.Outcome == ledger.PossiblyDuplicated:
			c.AlreadySent++
		case o.Outcome == ledger.Rejected:
			c.Rejected++
		default:
			rest = append(rest, r)
		}
	}
	return rest, c, nil
}

// reconcile asks Email Activity which of the batch's people SendGrid accepted, records them
// as sent, and returns the others. Email Activity lags behind Mail Send: while some people are
// missing and the lag since the last attempt has not passed, it asks to be retried then.
func (s *SendGridMail) reconcile(ctx context.Context, b sendgrid.Batch, lastAttempt time.Time) (rest []sendgrid.Recipient, reached int, err error) {
	msgs, err := s.Client.FindByBatchKey(ctx, b.Key)
	if errors.Is(err, sendgrid.ErrNoEmailActivity) {
		return nil, 0, err
	}
	if err != nil {
		return nil, 0, sendGridError(err, s.activityLag())
	}
	got := sendgrid.Reached(msgs)
	var outs []ledger.SubjectOutcome
	for _, r := range b.Recipients {
		if _, ok := got[mail.Normalize(r.Email)]; ok {
			outs = append(outs, ledger.SubjectOutcome{SubjectKey: r.Key, BatchKey: b.Key, Outcome: ledger.Sent})
		} else {
			rest = append(rest, r)
		}
	}
	if wait := s.activityLag() - s.now().Sub(lastAttempt); len(rest) > 0 && wait > 0 {
		return nil, 0, temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("batch %s: outcome of its last request unknown and Email Activity may not list it yet; reconciling again in %s", b.Key, wait.Round(time.Second)),
			ErrTypeSendGridAmbiguous, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
	}
	if err := s.Ledger.RecordOutcomes(ctx, b.IncidentID, outs); err != nil {
		return nil, 0, err
	}
	return rest, len(outs), nil
}
