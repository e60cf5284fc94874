// Package sendgrid is the production email adapter: SendGrid's v3 Mail Send API through
// github.com/sendgrid/sendgrid-go, for single messages (the regulator's report) and for
// batches of up to 1,000 personalised customer notices, plus the Email Activity query used
// to reconcile a batch whose outcome is unknown.
//
// The adapter never logs: no address, name or API key leaves it except in the requests it
// makes. Errors are classified (see Error) so that callers can retry, wait, split or give up.
package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sendgrid/rest"
	sg "github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/redact"
)

// Hosts of the SendGrid API. EU regional subusers must use EUHost.
const (
	DefaultHost = "https://api.sendgrid.com"
	EUHost      = "https://api.eu.sendgrid.com"
	// EnvHost names the environment variable that overrides the API host.
	EnvHost = "SENDGRID_API_HOST"
)

const (
	mailSendPath = "/v3/mail/send"
	messagesPath = "/v3/messages"
	// headerMessageID is the header in which SendGrid returns the id of an accepted request.
	headerMessageID = "X-Message-Id"
	// defaultRateLimitWait applies when a 429 carries no usable reset.
	defaultRateLimitWait = time.Second
)

// reservedHeaders may not be set through the headers field (Mail Send contract).
var reservedHeaders = map[string]struct{}{
	"x-sg-id": {}, "x-sg-eid": {}, "received": {}, "dkim-signature": {}, "content-type": {},
	"content-transfer-encoding": {}, "to": {}, "from": {}, "subject": {}, "reply-to": {}, "cc": {}, "bcc": {},
}

// HostFromEnv returns $SENDGRID_API_HOST, or DefaultHost when it is unset or empty.
func HostFromEnv() string {
	if h := strings.TrimSpace(os.Getenv(EnvHost)); h != "" {
		return h
	}
	return DefaultHost
}

// Config configures a Client.
type Config struct {
	// APIKey is the SendGrid API key (sent as a bearer token, never logged). Required.
	APIKey string
	// Host is the API base URL: DefaultHost, EUHost, or a local server in tests. Empty means
	// HostFromEnv().
	Host string
	// HTTPClient makes the requests. Nil means a client with a 60 s timeout.
	HTTPClient *http.Client
	// Now is the clock used to turn X-RateLimit-Reset into a wait. Nil means time.Now.
	Now func() time.Time
}

// Client calls SendGrid. It is safe for concurrent use: every call builds its own request
// object (sendgrid-go keeps the body on the request struct, so one must never be shared).
type Client struct {
	apiKey string
	host   string
	http   rest.Client
	now    func() time.Time
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, fmt.Errorf("sendgrid: API key is empty: set it from the secret store or environment: %w", ErrInvalidInput)
	}
	host := cfg.Host
	if host == "" {
		host = HostFromEnv()
	}
	host = strings.TrimRight(host, "/")
	u, err := url.Parse(host)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		// The host is shown redacted: a key pasted into it (user:key@, ?key=) is a secret.
		return nil, fmt.Errorf("sendgrid: API host %s must be a base URL such as %s or %s, with no user, password or query: %w", redact.URL(host), DefaultHost, EUHost, ErrInvalidInput)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16
		hc = &http.Client{Timeout: 60 * time.Second, Transport: t}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{apiKey: cfg.APIKey, host: host, http: rest.Client{HTTPClient: hc}, now: now}, nil
}

// Host returns the API base URL the client talks to.
func (c *Client) Host() string { return c.host }

// String hides the API key from fmt.
func (c *Client) String() string { return "sendgrid.Client{host: " + c.host + "}" }

// GoString hides the API key from %#v.
func (c *Client) GoString() string { return c.String() }

// Send delivers one message (the regulator's report) and returns SendGrid's message id.
// m.Key travels as custom_args.message_key so the message can be found in Email Activity.
func (c *Client) Send(ctx context.Context, m mail.Message) (string, error) {
	op := "mail send " + m.Key
	switch {
	case !mail.ValidAddress(m.From):
		return "", &Error{Op: op, Kind: ErrInvalidInput, Err: fmt.Errorf("sender: %w", mail.ErrInvalidAddress)}
	case !mail.ValidAddress(m.To):
		return "", &Error{Op: op, Kind: ErrInvalidInput, Err: fmt.Errorf("recipient: %w", mail.ErrInvalidAddress)}
	case strings.TrimSpace(m.Subject) == "":
		return "", &Error{Op: op, Kind: ErrInvalidInput, Err: errors.New("subject is empty")}
	case m.Text == "":
		return "", &Error{Op: op, Kind: ErrInvalidInput, Err: errors.New("body is empty")}
	}
	for k := range m.Headers {
		if _, reserved := reservedHeaders[strings.ToLower(k)]; reserved {
			return "", &Error{Op: op, Kind: ErrInvalidInput, Err: fmt.Errorf("header %s is set by SendGrid and may not be overridden", k)}
		}
	}
	p := &sgmail.Personalization{To: []*sgmail.Email{{Address: m.To}}}
	if m.Key != "" {
		p.CustomArgs = map[string]string{"message_key": m.Key}
	}
	msg := &sgmail.SGMailV3{
		From:             &sgmail.Email{Address: m.From},
		Subject:          m.Subject,
		Personalizations: []*sgmail.Personalization{p},
		Content:          []*sgmail.Content{{Type: "text/plain", Value: m.Text}},
	}
	if len(m.Headers) > 0 {
		msg.Headers = make(map[string]string, len(m.Headers))
		for k, v := range m.Headers {
			msg.Headers[k] = v
		}
	}
	return c.postMail(ctx, op, msg)
}

// postMail makes one Mail Send request and classifies its outcome.
func (c *Client) postMail(ctx context.Context, op string, msg *sgmail.SGMailV3) (string, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return "", &Error{Op: op, Kind: ErrInvalidInput, Err: err}
	}
	// A fresh request object per call: sendgrid-go's Client keeps the body on a shared struct.
	req := sg.GetRequest(c.apiKey, mailSendPath, c.host)
	req.Method = rest.Post
	req.Body = body
	resp, err := c.do(ctx, req, true)
	if err != nil {
		return "", wrapTransport(op, err)
	}
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK:
		// 200 is what sandbox mode answers.
		return header(resp, headerMessageID), nil
	default:
		return "", c.statusError(op, resp)
	}
}

// transportError is a failed round trip, with whether any part of the request was written.
type transportError struct {
	err   error
	wrote bool
}

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func wrapTransport(op string, err error) error {
	var te *transportError
	if errors.As(err, &te) && te.wrote {
		return &Error{Op: op, Kind: ErrAmbiguous, Err: te.err}
	}
	if te != nil {
		err = te.err
	}
	return &Error{Op: op, Kind: ErrTemporary, Err: err}
}

// do sends req. A failure is a *transportError; with mayHaveLeft, it records whether the
// request's headers were written, after which SendGrid may have acted on it.
func (c *Client) do(ctx context.Context, req rest.Request, mayHaveLeft bool) (*rest.Response, error) {
	var wrote atomic.Bool
	if mayHaveLeft {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteHeaders: func() { wrote.Store(true) },
		})
	}
	resp, err := c.http.SendWithContext(ctx, req)
	if resp != nil && resp.StatusCode != 0 {
		// A status arrived; a failure reading the rest of the body does not change it.
		return resp, nil
	}
	if err == nil {
		err = errors.New("no response")
	}
	return nil, &transportError{err: scrubURL(err), wrote: wrote.Load()}
}

// scrubURL drops the query from url.Error messages: Email Activity queries name batch keys
// only, but keep errors short and free of anything a query might carry.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// statusError classifies a non-success answer.
func (c *Client) statusError(op string, resp *rest.Response) error {
	e := &Error{Op: op, StatusCode: resp.StatusCode}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
		e.Reset, e.RetryAfter = c.rateLimitWait(resp)
	case resp.StatusCode >= 500:
		e.Kind = ErrTemporary
	case resp.StatusCode == http.StatusBadRequest:
		e.Kind = ErrBadRequest
	default:
		e.Kind = ErrPermanent
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		e.Fields = parseFieldErrors(resp.Body)
	}
	return e
}

// rateLimitWait derives the wait from X-RateLimit-Reset (unix seconds), falling back to
// Retry-After (seconds) and then to one second.
func (c *Client) rateLimitWait(resp *rest.Response) (time.Time, time.Duration) {
	now := c.now()
	if v := header(resp, "X-RateLimit-Reset"); v != "" {
		if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			reset := time.Unix(secs, 0)
			return reset, max(reset.Sub(now), 0)
		}
	}
	if v := header(resp, "Retry-After"); v != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
			d := time.Duration(secs) * time.Second
			return now.Add(d), d
		}
	}
	return now.Add(defaultRateLimitWait), defaultRateLimitWait
}

func header(resp *rest.Response, name string) string {
	return http.Header(resp.Headers).Get(name)
}
