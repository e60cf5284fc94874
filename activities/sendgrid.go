package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/sendgrid"
)

// SendGridClient is what the SendGrid path needs of the adapter (*sendgrid.Client).
type SendGridClient interface {
	// Send delivers one message: a report to an authority.
	Send(ctx context.Context, m mail.Message) (string, error)
	// SendBatch delivers one batch of up to 1,000 personalised notices in one request.
	SendBatch(ctx context.Context, b sendgrid.Batch) (sendgrid.BatchResult, error)
	// SendSplit delivers a batch like SendBatch, bisecting it on a 400 to isolate the
	// addresses SendGrid refuses.
	SendSplit(ctx context.Context, b sendgrid.Batch) (sendgrid.BatchResult, error)
	// FindByBatchKey lists, through Email Activity, what SendGrid accepted for a batch.
	FindByBatchKey(ctx context.Context, key string) ([]sendgrid.ActivityMessage, error)
}

// Defaults of SendGridMail.
const (
	// NoticeBlockRows is the row block a notice batch is cut from: one block never holds more
	// people than one request may carry, and block boundaries (not the activity's range) fix
	// the batch keys, so any split of the work into activities finds the same batches.
	NoticeBlockRows = sendgrid.MaxPersonalizations
	// DefaultNoticeRangeRows is how many rows one SendNotices activity covers on this path.
	DefaultNoticeRangeRows = 20 * NoticeBlockRows
	// DefaultNoticeParallel is how many ranges are sent at once.
	DefaultNoticeParallel = 4
	// DefaultActivityLag is how long SendGrid's Email Activity may take to list an accepted
	// message. A batch whose outcome is unknown is reconciled only once this has passed since
	// its request, so that an accepted request is not taken for a lost one.
	DefaultActivityLag = 2 * time.Minute
	// refusedRetryDelay is the wait after a 401/403: someone must fix the key or its scopes,
	// and the notices go out once they have, without anyone restarting the alerts.
	refusedRetryDelay = time.Minute
)

// Error types of the SendGrid path, as Temporal application errors.
const (
	ErrTypeSendGridRateLimited  = "SendGridRateLimited"
	ErrTypeSendGridTemporary    = "SendGridTemporary"
	ErrTypeSendGridAmbiguous    = "SendGridAmbiguous"
	ErrTypeSendGridRefused      = "SendGridRefused"
	ErrTypeSendGridBadRequest   = "SendGridBadRequest"
	ErrTypeSendGridInvalidInput = "SendGridInvalidInput"
)

// SendGridMail is email through SendGrid: reports to authorities one by one (Send, the
// Mailer), and customer notices in batches of up to 1,000 (SendNotices detects it). Both are
// made exactly once through the notification ledger: a message or batch is marked sending
// before its request and accepted after SendGrid's 202, and one found accepted is not sent
// again.
type SendGridMail struct {
	Client SendGridClient
	Ledger *ledger.Ledger
	// RangeRows and Parallel shape the customer alerts: rows per SendNotices activity, and
	// activities at once. Zero means the defaults.
	RangeRows int
	Parallel  int
	// ActivityLag: see DefaultActivityLag. Zero means no wait (a local server); negative
	// means the default.
	ActivityLag time.Duration
	Now         func() time.Time
}

// SendGridConfig configures NewSendGridMail.
type SendGridConfig struct {
	APIKey string
	// Host is the API base URL; empty means $SENDGRID_API_HOST or api.sendgrid.com.
	Host string
	// LedgerDSN is a SQLite file path or a postgres:// URL.
	LedgerDSN   string
	ActivityLag time.Duration
}

// NewSendGridMail connects the SendGrid adapter and opens the ledger. The caller closes the
// ledger when the worker stops.
func NewSendGridMail(ctx context.Context, cfg SendGridConfig) (*SendGridMail, error) {
	client, err := sendgrid.New(sendgrid.Config{APIKey: cfg.APIKey, Host: cfg.Host})
	if err != nil {
		return nil, err
	}
	led, err := ledger.Open(ctx, cfg.LedgerDSN)
	if err != nil {
		return nil, err
	}
	return &SendGridMail{Client: client, Ledger: led, ActivityLag: cfg.ActivityLag}, nil
}

func (s *SendGridMail) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SendGridMail) activityLag() time.Duration {
	if s.ActivityLag < 0 {
		return DefaultActivityLag
	}
	return s.ActivityLag
}

func (s *SendGridMail) rangeRows() int {
	if s.RangeRows <= 0 {
		return DefaultNoticeRangeRows
	}
	// Whole blocks, so that ranges never cut a batch.
	return (s.RangeRows + NoticeBlockRows - 1) / NoticeBlockRows * NoticeBlockRows
}

func (s *SendGridMail) parallel() int {
	if s.Parallel <= 0 {
		return DefaultNoticeParallel
	}
	return s.Parallel
}

// Send sends one message once per Key: a key the ledger holds as accepted is answered as a
// duplicate without a request. After an unknown outcome the message is sent again: a
// regulator's copy twice is better than none.
func (s *SendGridMail) Send(ctx context.Context, m mail.Message) (mail.Receipt, error) {
	if s.Ledger == nil || m.Key == "" {
		id, err := s.Client.Send(ctx, m)
		if err != nil {
			return mail.Receipt{}, sendGridError(err, s.activityLag())
		}
		return mail.Receipt{ID: id}, nil
	}
	incident := m.Headers["X-Breach-Incident"]
	if incident == "" {
		incident, _, _ = strings.Cut(m.Key, "/")
	}
	rec, err := s.Ledger.Batch(ctx, incident, m.Key)
	switch {
	case err == nil && rec.State == ledger.Accepted:
		return mail.Receipt{ID: rec.MessageID, Duplicate: true}, nil
	case err != nil && !errors.Is(err, ledger.ErrNotFound):
		return mail.Receipt{}, err
	}
	if err := s.Ledger.MarkSending(ctx, incident, m.Key); errors.Is(err, ledger.ErrAccepted) {
		rec, _ := s.Ledger.Batch(ctx, incident, m.Key)
		return mail.Receipt{ID: rec.MessageID, Duplicate: true}, nil
	} else if err != nil {
		return mail.Receipt{}, err
	}
	id, sendErr := s.Client.Send(ctx, m)
	if sendErr != nil {
		mark := s.Ledger.MarkFailed
		if errors.Is(sendErr, sendgrid.ErrAmbiguous) {
			mark = s.Ledger.MarkAmbiguous
		}
		if err := mark(ctx, incident, m.Key, sendErr.Error()); err != nil {
			return mail.Receipt{}, errors.Join(sendErr, err)
		}
		return mail.Receipt{}, sendGridError(sendErr, 0)
	}
	if err := s.Ledger.MarkAccepted(ctx, incident, m.Key, id); err != nil {
		return mail.Receipt{}, err
	}
	return mail.Receipt{ID: id}, nil
}

// sendGridError turns an adapter error into a Temporal application error of the right kind:
// a 429 waits as long as SendGrid asked; 5xx and lost connections retry with backoff (an
// ambiguous one after the Email Activity lag); a 400 about the message itself cannot be fixed
// by retrying; a refused key retries slowly until someone fixes it. The adapter keeps
// addresses out of its messages.
func sendGridError(err error, lag time.Duration) error {
	msg := err.Error()
	switch {
	case errors.Is(err, sendgrid.ErrRateLimited):
		wait, _ := sendgrid.RetryAfter(err)
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeSendGridRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: max(wait, time.Second)})
	case errors.Is(err, sendgrid.ErrAmbiguous):
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeSendGridAmbiguous,
			temporal.ApplicationErrorOptions{NextRetryDelay: lag})
	case errors.Is(err, sendgrid.ErrTemporary):
		return temporal.NewApplicationError(msg, ErrTypeSendGridTemporary)
	case errors.Is(err, sendgrid.ErrPermanent), errors.Is(err, sendgrid.ErrNoEmailActivity):
		return temporal.NewApplicationErrorWithOptions(msg+"; check SENDGRID_API_KEY and its scopes (mail.send)", ErrTypeSendGridRefused,
			temporal.ApplicationErrorOptions{NextRetryDelay: refusedRetryDelay})
	case errors.Is(err, sendgrid.ErrBadRequest):
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeSendGridBadRequest, nil)
	case errors.Is(err, sendgrid.ErrInvalidInput):
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeSendGridInvalidInput, nil)
	}
	return fmt.Errorf("sendgrid: %s", msg)
}
