package sendgrid

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/breachops/breach/internal/redact"
)

// Kinds of failure. Every error returned by a Client call matches exactly one of them with
// errors.Is, so a caller (a Temporal activity) can decide: retry, wait, split, or give up.
var (
	// ErrRateLimited: SendGrid answered 429. Wait until the reset the error carries (see
	// RetryAfter), then retry.
	ErrRateLimited = errors.New("rate limited by SendGrid")
	// ErrTemporary: SendGrid answered 5xx, or the connection failed before any byte of the
	// request was written. Nothing was accepted; retry with backoff.
	ErrTemporary = errors.New("SendGrid temporarily failed")
	// ErrBadRequest: SendGrid answered 400. The error carries the field errors. Resending
	// the same request cannot succeed; for a batch, SendSplit finds the offending recipients.
	ErrBadRequest = errors.New("SendGrid rejected the request as invalid")
	// ErrPermanent: 401, 403 or another 4xx: the API key, its scopes or the account are
	// wrong. Retrying cannot help; a person must fix the configuration.
	ErrPermanent = errors.New("SendGrid refused the request")
	// ErrAmbiguous: the request may have reached SendGrid but no answer came back (the
	// connection dropped or the context ended after the request was written). The mail may
	// or may not have been accepted: reconcile before resending.
	ErrAmbiguous = errors.New("outcome unknown: the request may have reached SendGrid")
	// ErrNoEmailActivity: the account cannot query the Email Activity API (it is a paid
	// add-on, and EU regional subusers have no activity data). Reconciliation by query is
	// impossible; the caller falls back to resending.
	ErrNoEmailActivity = errors.New("no Email Activity API for this account")
	// ErrInvalidInput: the call was refused before any request was made.
	ErrInvalidInput = errors.New("invalid input")
)

// FieldError is one entry of a SendGrid error response. Anything that looks like an email
// address in Message is replaced by "[address]" so the error can be logged.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error describes a failed SendGrid call. It unwraps to its Kind (one of the Err* values
// above) and to the transport error, if any.
type Error struct {
	// Op names the operation and its reference, such as "mail send batch INC-1/b-000007".
	Op string
	// Kind is one of ErrRateLimited, ErrTemporary, ErrBadRequest, ErrPermanent,
	// ErrAmbiguous, ErrNoEmailActivity, ErrInvalidInput.
	Kind error
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// Reset is when the rate limit resets (X-RateLimit-Reset), for 429 only.
	Reset time.Time
	// RetryAfter is how long to wait, measured from the response, for 429 only.
	RetryAfter time.Duration
	// Fields are the field errors of a 4xx answer.
	Fields []FieldError
	// Err is the transport or local error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sendgrid ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.StatusCode)
	}
	b.WriteString(e.Kind.Error())
	if e.Kind == ErrRateLimited {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter.Round(time.Millisecond))
	}
	for i, f := range e.Fields {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Fields)-i)
			break
		}
		b.WriteString("; ")
		if f.Field != "" {
			b.WriteString(f.Field)
			b.WriteString(": ")
		}
		b.WriteString(f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		// A transport error quotes the request's URL.
		b.WriteString(redact.Text(e.Err.Error()))
	}
	return b.String()
}

// Unwrap lets errors.Is match both the kind and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Retryable reports whether err is worth retrying later: rate limited, a temporary failure,
// or a transport failure before the request left. Ambiguous outcomes are not retryable as
// such: they need reconciliation first.
func Retryable(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrTemporary)
}

// RetryAfter returns how long SendGrid asked to wait, for a rate-limited error.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.Kind == ErrRateLimited {
		return e.RetryAfter, true
	}
	return 0, false
}

// BadRequestFields returns the field errors of a 400 answer.
func BadRequestFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) && e.Kind == ErrBadRequest {
		return e.Fields
	}
	return nil
}

// parseFieldErrors reads SendGrid's {"errors":[{"message","field","help"}]} body. A body that
// is not in that shape yields one field error with a redacted, shortened copy of it.
func parseFieldErrors(body string) []FieldError {
	var resp struct {
		Errors []struct {
			Field   *string `json:"field"`
			Message string  `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || len(resp.Errors) == 0 {
		body = strings.TrimSpace(body)
		if body == "" {
			return nil
		}
		if len(body) > 200 {
			body = body[:200] + "..."
		}
		return []FieldError{{Message: redactAddresses(body)}}
	}
	out := make([]FieldError, 0, len(resp.Errors))
	for _, e := range resp.Errors {
		f := FieldError{Message: redactAddresses(e.Message)}
		if e.Field != nil && *e.Field != "null" {
			f.Field = redactAddresses(*e.Field)
		}
		out = append(out, f)
	}
	return out
}

// redactAddresses replaces every word containing '@' with "[address]": SendGrid's messages
// sometimes quote the offending address, and errors end up in logs and workflow history.
func redactAddresses(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "@") {
			words[i] = "[address]"
		}
	}
	return strings.Join(words, " ")
}
