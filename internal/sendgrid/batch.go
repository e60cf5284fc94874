package sendgrid

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/breachops/breach/internal/mail"
)

// Limits of one Mail Send request, from the official contract.
const (
	MaxPersonalizations = 1000
	MaxRecipients       = 1000
	// MaxCategories is the most categories one request may carry.
	MaxCategories = 10
	// maxSubstitutionBytes is the limit on the substitutions of one personalization.
	maxSubstitutionBytes = 10000
	maxKeyLen            = 200
)

// custom_args keys set on every personalization of a batch. Email Activity queries them
// (as unique_args) to reconcile a batch.
const (
	ArgIncidentID = "incident_id"
	ArgBatchKey   = "batch_key"
)

// Recipient is one subject to notify. Nothing of it is ever logged.
type Recipient struct {
	// Key is the caller's stable pseudonymous subject key. It is not sent to SendGrid; it
	// only travels through Plan and results so outcomes map back to subjects.
	Key string
	// Email is the address the notice goes to.
	Email string
	// Substitutions fill the template's tags for this recipient, e.g. {"-name-": "Ada",
	// "-data-": "email address, postal address"}.
	Substitutions map[string]string
}

// Batch is one Mail Send request carrying up to 1,000 personalised notices: one template
// (Subject, Text, HTML with substitution tags) and one personalization per recipient.
type Batch struct {
	// IncidentID and Key identify the batch. Both travel in every personalization's
	// custom_args (incident_id, batch_key); Key should be unique across incidents because
	// FindByBatchKey queries by it alone. Letters, digits and ._:/- only.
	IncidentID string
	Key        string
	From       string
	FromName   string
	// ReplyTo is optional.
	ReplyTo string
	// Subject, Text and HTML are the template; at least one of Text and HTML is required.
	Subject string
	Text    string
	HTML    string
	// Categories are added to the incident id, which is always the first category.
	Categories []string
	// Headers are message headers (Content-Language), none of those the contract reserves.
	Headers map[string]string
	// Sandbox sets mail_settings.sandbox_mode: SendGrid validates the request and sends
	// nothing. Drills use it.
	Sandbox    bool
	Recipients []Recipient
}

// Rejection is a recipient that SendGrid refused with a 400 on its own.
type Rejection struct {
	// Index is the recipient's position in Batch.Recipients.
	Index int
	// Fields are SendGrid's field errors for the one-recipient request, redacted.
	Fields []FieldError
}

// BatchResult is what happened to a batch.
type BatchResult struct {
	// MessageIDs are the X-Message-Id values of the accepted requests: one for SendBatch,
	// one per accepted part for SendSplit.
	MessageIDs []string
	// Accepted are the positions in Batch.Recipients that SendGrid accepted, ascending
	// within each part.
	Accepted []int
	// Rejected are the recipients SendGrid refused on their own (SendSplit only).
	Rejected []Rejection
	// Requests is the number of Mail Send requests made.
	Requests int
}

// SendBatch sends b as one request. On success every recipient was accepted.
func (c *Client) SendBatch(ctx context.Context, b Batch) (BatchResult, error) {
	op := "mail send batch " + b.Key
	if err := b.validate(); err != nil {
		return BatchResult{}, &Error{Op: op, Kind: ErrInvalidInput, Err: err}
	}
	id, err := c.postMail(ctx, op, b.message())
	if err != nil {
		return BatchResult{Requests: 1}, err
	}
	return BatchResult{MessageIDs: []string{id}, Accepted: seq(len(b.Recipients)), Requests: 1}, nil
}

// SendSplit sends b like SendBatch, but when SendGrid rejects it with a 400 that concerns
// its recipients, bisects it: each half is sent on its own, down to single recipients,
// which are then reported as rejected while the rest go out. A 400 about the message
// itself (sender, subject, content) is returned as is: splitting would not help.
//
// Any other failure stops the split and is returned together with the parts already
// accepted; the caller records those and must not resend them.
func (c *Client) SendSplit(ctx context.Context, b Batch) (BatchResult, error) {
	op := "mail send batch " + b.Key
	if err := b.validate(); err != nil {
		return BatchResult{}, &Error{Op: op, Kind: ErrInvalidInput, Err: err}
	}
	var res BatchResult
	err := c.split(ctx, b, seq(len(b.Recipients)), &res)
	return res, err
}

func (c *Client) split(ctx context.Context, b Batch, idx []int, res *BatchResult) error {
	part := b
	part.Recipients = make([]Recipient, len(idx))
	for i, j := range idx {
		part.Recipients[i] = b.Recipients[j]
	}
	op := fmt.Sprintf("mail send batch %s (part of %d)", b.Key, len(idx))
	if len(idx) == len(b.Recipients) {
		op = "mail send batch " + b.Key
	}
	res.Requests++
	id, err := c.postMail(ctx, op, part.message())
	if err == nil {
		res.MessageIDs = append(res.MessageIDs, id)
		res.Accepted = append(res.Accepted, idx...)
		return nil
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrBadRequest || !concernsRecipients(e.Fields) {
		return err
	}
	if len(idx) == 1 {
		res.Rejected = append(res.Rejected, Rejection{Index: idx[0], Fields: e.Fields})
		return nil
	}
	mid := len(idx) / 2
	if err := c.split(ctx, b, idx[:mid], res); err != nil {
		return err
	}
	return c.split(ctx, b, idx[mid:], res)
}

// concernsRecipients reports whether a 400 may be caused by some recipients: it names a
// personalization field, or does not say which field is wrong.
func concernsRecipients(fields []FieldError) bool {
	if len(fields) == 0 {
		return true
	}
	for _, f := range fields {
		if f.Field == "" || strings.HasPrefix(f.Field, "personalizations") {
			return true
		}
	}
	return false
}

// message renders b as a Mail Send body. custom_args go on each personalization: the
// official schema types the message-level custom_args as a string.
func (b Batch) message() *sgmail.SGMailV3 {
	m := &sgmail.SGMailV3{
		From:       &sgmail.Email{Address: b.From, Name: b.FromName},
		Subject:    b.Subject,
		Categories: b.categories(),
	}
	if b.ReplyTo != "" {
		m.ReplyTo = &sgmail.Email{Address: b.ReplyTo}
	}
	if len(b.Headers) > 0 {
		m.Headers = b.Headers
	}
	// text/plain must come first when both are present.
	if b.Text != "" {
		m.Content = append(m.Content, &sgmail.Content{Type: "text/plain", Value: b.Text})
	}
	if b.HTML != "" {
		m.Content = append(m.Content, &sgmail.Content{Type: "text/html", Value: b.HTML})
	}
	if b.Sandbox {
		on := true
		m.MailSettings = &sgmail.MailSettings{SandboxMode: &sgmail.Setting{Enable: &on}}
	}
	m.Personalizations = make([]*sgmail.Personalization, len(b.Recipients))
	for i, r := range b.Recipients {
		m.Personalizations[i] = &sgmail.Personalization{
			To:            []*sgmail.Email{{Address: r.Email}},
			Substitutions: r.Substitutions,
			CustomArgs:    map[string]string{ArgIncidentID: b.IncidentID, ArgBatchKey: b.Key},
		}
	}
	return m
}

func (b Batch) categories() []string {
	out := make([]string, 0, 1+len(b.Categories))
	seen := make(map[string]bool, 1+len(b.Categories))
	for _, c := range append([]string{b.IncidentID}, b.Categories...) {
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// validate checks everything SendGrid would refuse for the batch as a whole, so that a 400
// from SendGrid can only come from individual recipients. Messages never quote addresses.
func (b Batch) validate() error {
	switch {
	case !validKey(b.IncidentID):
		return fmt.Errorf("incident id %q: use 1 to %d letters, digits or ._:/-", b.IncidentID, maxKeyLen)
	case !validKey(b.Key):
		return fmt.Errorf("batch key %q: use 1 to %d letters, digits or ._:/-", b.Key, maxKeyLen)
	case !mail.ValidAddress(b.From):
		return fmt.Errorf("sender: %w", mail.ErrInvalidAddress)
	case b.ReplyTo != "" && !mail.ValidAddress(b.ReplyTo):
		return fmt.Errorf("reply-to: %w", mail.ErrInvalidAddress)
	case strings.TrimSpace(b.Subject) == "":
		return errors.New("subject is empty")
	case b.Text == "" && b.HTML == "":
		return errors.New("both text and HTML bodies are empty")
	case len(b.Recipients) == 0:
		return errors.New("no recipients")
	case len(b.Recipients) > MaxPersonalizations:
		return fmt.Errorf("%d recipients: at most %d per request; use Plan", len(b.Recipients), MaxPersonalizations)
	}
	for k := range b.Headers {
		if _, reserved := reservedHeaders[strings.ToLower(k)]; reserved {
			return fmt.Errorf("header %s is reserved: SendGrid sets it", k)
		}
	}
	cats := b.categories()
	if len(cats) > MaxCategories {
		return fmt.Errorf("%d categories: at most %d", len(cats), MaxCategories)
	}
	for _, c := range cats {
		if len(c) > 255 {
			return fmt.Errorf("category %.20q...: longer than 255 bytes", c)
		}
	}
	seen := make(map[string]struct{}, len(b.Recipients))
	for i, r := range b.Recipients {
		if !mail.ValidAddress(r.Email) {
			return fmt.Errorf("recipient %d: %w", i, mail.ErrInvalidAddress)
		}
		n := mail.Normalize(r.Email)
		if _, dup := seen[n]; dup {
			return fmt.Errorf("recipient %d: address repeats an earlier recipient's; use Plan", i)
		}
		seen[n] = struct{}{}
		size := 0
		for k, v := range r.Substitutions {
			size += len(k) + len(v)
		}
		if size > maxSubstitutionBytes {
			return fmt.Errorf("recipient %d: substitutions take %d bytes, at most %d", i, size, maxSubstitutionBytes)
		}
	}
	return nil
}

func validKey(s string) bool {
	if s == "" || len(s) > maxKeyLen {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("._:/-", r):
		default:
			return false
		}
	}
	return true
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
