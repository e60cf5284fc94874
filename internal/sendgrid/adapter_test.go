package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/rest"

	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/sendgridtest"
)

func report() mail.Message {
	return mail.Message{
		Key: "INC-1-report-dpa", From: "dpo@example.com", To: "breach@authority.example.org",
		Subject: "Personal data breach notification", Text: "Report body.",
	}
}

func TestSendSingle(t *testing.T) {
	f := newFixture(t)
	id, err := f.client.Send(context.Background(), report())
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Error("no message id")
	}
	if n := f.srv.Deliveries("BREACH@authority.example.org"); n != 1 {
		t.Errorf("authority got %d messages, want 1", n)
	}
	reqs := f.srv.Requests()
	if len(reqs) != 1 || reqs[0].MessageID != id || reqs[0].CustomArgs["message_key"] != "INC-1-report-dpa" {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestSendRefusesBadMessagesWithoutARequest(t *testing.T) {
	f := newFixture(t)
	for name, mutate := range map[string]func(*mail.Message){
		"bad sender":      func(m *mail.Message) { m.From = "dpo" },
		"bad recipient":   func(m *mail.Message) { m.To = "a@b@c" },
		"no subject":      func(m *mail.Message) { m.Subject = " " },
		"no body":         func(m *mail.Message) { m.Text = "" },
		"reserved header": func(m *mail.Message) { m.Headers = map[string]string{"Reply-To": "x@example.com"} },
	} {
		m := report()
		mutate(&m)
		if _, err := f.client.Send(context.Background(), m); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: got %v, want ErrInvalidInput", name, err)
		}
	}
	if n := len(f.rec.requests()); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestSendBatchAccepted(t *testing.T) {
	f := newFixture(t)
	b := testBatch("INC-1/b-000001", recipients(5, "Person%d@Example.com"))
	res, err := f.client.SendBatch(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.MessageIDs) != 1 || res.MessageIDs[0] == "" || !reflect.DeepEqual(res.Accepted, []int{0, 1, 2, 3, 4}) || res.Requests != 1 {
		t.Errorf("result %+v", res)
	}
	for i := range 5 {
		if n := f.srv.Deliveries(fmt.Sprintf("person%d@example.com", i)); n != 1 {
			t.Errorf("recipient %d delivered %d times", i, n)
		}
	}
	got := f.srv.Batch("INC-1/b-000001")
	if len(got) != 1 {
		t.Fatalf("server saw %d requests for the batch", len(got))
	}
	r := got[0]
	if r.IncidentID != b.IncidentID || r.Sandbox || r.MessageID != res.MessageIDs[0] ||
		!reflect.DeepEqual(r.Categories, []string{"INC-20261128-7F3A", "breach-notice"}) {
		t.Errorf("recorded %+v", r)
	}

	// Substitutions travel per personalization.
	var body struct {
		Personalizations []struct {
			Substitutions map[string]string `json:"substitutions"`
			CustomArgs    map[string]string `json:"custom_args"`
		} `json:"personalizations"`
	}
	if err := json.Unmarshal(f.rec.requests()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if p := body.Personalizations[3]; p.Substitutions["-name-"] != "Customer 3" || p.CustomArgs[ArgBatchKey] != b.Key || p.CustomArgs[ArgIncidentID] != b.IncidentID {
		t.Errorf("personalization 3 = %+v", p)
	}
}

// TestConcurrentBatches: one Client used from many goroutines; every request carries its
// own body (sendgrid-go keeps the body on its request struct, which must not be shared).
func TestConcurrentBatches(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				key := fmt.Sprintf("INC-1/b-%d-%d", w, i)
				rs := recipients(50, "w"+strconv.Itoa(w)+"i"+strconv.Itoa(i)+"r%d@example.com")
				if _, err := f.client.SendBatch(context.Background(), testBatch(key, rs)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for w := range 8 {
		for i := range 5 {
			key := fmt.Sprintf("INC-1/b-%d-%d", w, i)
			got := f.srv.Batch(key)
			prefix := "w" + strconv.Itoa(w) + "i" + strconv.Itoa(i) + "r"
			if len(got) != 1 || len(got[0].Addresses) != 50 {
				t.Fatalf("batch %s recorded %d times", key, len(got))
			}
			for _, a := range got[0].Addresses {
				if !strings.HasPrefix(a, prefix) {
					t.Errorf("batch %s carried another batch's recipient", key)
				}
			}
		}
	}
	if st := f.srv.Stats(); st.Delivered != 2000 || st.Duplicated != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSendBatchSandbox(t *testing.T) {
	f := newFixture(t)
	b := testBatch("DRILL-1/b-000001", recipients(2, "drill%d@example.com"))
	b.Sandbox = true
	res, err := f.client.SendBatch(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted) != 2 {
		t.Errorf("result %+v", res)
	}
	if n, s := f.srv.Deliveries("drill0@example.com"), f.srv.SandboxDeliveries("drill0@example.com"); n != 0 || s != 1 {
		t.Errorf("deliveries %d, sandbox %d; want 0 and 1", n, s)
	}
	if reqs := f.srv.Requests(); len(reqs) != 1 || !reqs[0].Sandbox {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestSendBatchValidation(t *testing.T) {
	f := newFixture(t)
	tests := map[string]func(*Batch){
		"1001 recipients":         func(b *Batch) { b.Recipients = recipients(1001, "r%d@example.com") },
		"no recipients":           func(b *Batch) { b.Recipients = nil },
		"mixed-case duplicate":    func(b *Batch) { b.Recipients[1].Email = "R0@EXAMPLE.com" },
		"invalid recipient":       func(b *Batch) { b.Recipients[1].Email = "r1 at example.com" },
		"quote in batch key":      func(b *Batch) { b.Key = `b"1` },
		"no incident":             func(b *Batch) { b.IncidentID = "" },
		"no body":                 func(b *Batch) { b.Text, b.HTML = "", "" },
		"11 categories":           func(b *Batch) { b.Categories = strings.Split("a b c d e f g h i j", " ") },
		"substitutions too large": func(b *Batch) { b.Recipients[0].Substitutions = map[string]string{"-x-": strings.Repeat("x", 10000)} },
	}
	for name, mutate := range tests {
		b := testBatch("INC-1/b-1", recipients(3, "r%d@example.com"))
		mutate(&b)
		_, err := f.client.SendBatch(context.Background(), b)
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: got %v, want ErrInvalidInput", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "@") {
			t.Errorf("%s: error names an address: %v", name, err)
		}
	}
	if n := len(f.rec.requests()); n != 0 {
		t.Errorf("%d requests made for invalid batches", n)
	}
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name      string
		fault     sendgridtest.Fault
		kind      error
		retryable bool
		wait      time.Duration
		delivered int
	}{
		{"429 waits for X-RateLimit-Reset", sendgridtest.Fault{Kind: sendgridtest.RateLimit, Wait: 30 * time.Second}, ErrRateLimited, true, 30 * time.Second, 0},
		{"500 is temporary", sendgridtest.Fault{Kind: sendgridtest.ServerError}, ErrTemporary, true, 0, 0},
		{"drop after accept is ambiguous", sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept}, ErrAmbiguous, false, 0, 3},
		{"drop before accept is ambiguous too", sendgridtest.Fault{Kind: sendgridtest.DropBeforeAccept}, ErrAmbiguous, false, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.Inject(tc.fault)
			b := testBatch("INC-1/b-000001", recipients(3, "r%d@example.com"))
			_, err := f.client.SendBatch(context.Background(), b)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
			if Retryable(err) != tc.retryable {
				t.Errorf("Retryable = %v, want %v", Retryable(err), tc.retryable)
			}
			wait, ok := RetryAfter(err)
			if ok != (tc.kind == ErrRateLimited) || wait != tc.wait {
				t.Errorf("RetryAfter = %v, %v; want %v", wait, ok, tc.wait)
			}
			if tc.kind == ErrRateLimited {
				var e *Error
				errors.As(err, &e)
				if want := f.now.Add(30 * time.Second); !e.Reset.Equal(want) || e.StatusCode != 429 {
					t.Errorf("reset %v status %d, want %v 429", e.Reset, e.StatusCode, want)
				}
			}
			if got := f.srv.Stats().Delivered; got != tc.delivered {
				t.Errorf("server delivered %d, want %d", got, tc.delivered)
			}
			// The next attempt goes through.
			if _, err := f.client.SendBatch(context.Background(), b); err != nil {
				t.Errorf("retry: %v", err)
			}
		})
	}
}

func TestRateLimitWaitSources(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c, err := New(Config{APIKey: "k", Host: "http://127.0.0.1:1", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		headers map[string][]string
		want    time.Duration
	}{
		{map[string][]string{"X-Ratelimit-Reset": {"1800000007"}}, 7 * time.Second},
		{map[string][]string{"X-Ratelimit-Reset": {"1799999990"}}, 0}, // already past
		{map[string][]string{"Retry-After": {"4"}}, 4 * time.Second},
		{nil, time.Second},
	}
	for _, tc := range tests {
		err := c.statusError("op", &rest.Response{StatusCode: 429, Headers: tc.headers})
		if got, _ := RetryAfter(err); got != tc.want {
			t.Errorf("headers %v: wait %v, want %v", tc.headers, got, tc.want)
		}
	}
}

func TestPermanentAndBadRequest(t *testing.T) {
	t.Run("wrong API key is permanent", func(t *testing.T) {
		f := newFixture(t)
		c, err := New(Config{APIKey: "SG.wrong", Host: DefaultHost, HTTPClient: &http.Client{Transport: f.rec}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Send(context.Background(), report())
		if !errors.Is(err, ErrPermanent) || Retryable(err) {
			t.Fatalf("got %v, want permanent", err)
		}
		if strings.Contains(err.Error(), "SG.wrong") {
			t.Errorf("error shows the API key: %v", err)
		}
	})
	t.Run("403 is permanent", func(t *testing.T) {
		c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"errors":[{"field":null,"message":"access forbidden"}]}`)
		})
		_, err := c.Send(context.Background(), report())
		if !errors.Is(err, ErrPermanent) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("400 carries field errors, redacted", func(t *testing.T) {
		f := newFixture(t)
		f.srv.Reject("r2@example.com")
		b := testBatch("INC-1/b-000001", recipients(4, "r%d@example.com"))
		b.Recipients[3].Email = "r2@example.org" // would collide if the server matched loosely
		_, err := f.client.SendBatch(context.Background(), b)
		if !errors.Is(err, ErrBadRequest) || Retryable(err) {
			t.Fatalf("got %v, want bad request", err)
		}
		fields := BadRequestFields(err)
		if len(fields) != 1 || fields[0].Field != "personalizations.2.to.0.email" {
			t.Errorf("fields %+v", fields)
		}
		if n := f.srv.Stats().Delivered; n != 0 {
			t.Errorf("%d delivered", n)
		}
	})
	t.Run("addresses in SendGrid messages are redacted", func(t *testing.T) {
		c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"errors":[{"field":"personalizations.0.to","message":"We found the first duplicate instance of [Ada@example.com] in the personalizations.0.to field."}]}`)
		})
		_, err := c.SendBatch(context.Background(), testBatch("INC-1/b-1", recipients(2, "r%d@example.com")))
		if !errors.Is(err, ErrBadRequest) || strings.Contains(err.Error(), "@") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSplitFindsOffendingAddresses(t *testing.T) {
	f := newFixture(t)
	rs := recipients(1000, "r%d@example.com")
	f.srv.Reject("R137@example.com", "r800@EXAMPLE.COM")
	res, err := f.client.SendSplit(context.Background(), testBatch("INC-1/b-000001", rs))
	if err != nil {
		t.Fatal(err)
	}
	var rejected []int
	for _, r := range res.Rejected {
		rejected = append(rejected, r.Index)
		if len(r.Fields) == 0 {
			t.Errorf("rejection %d has no reason", r.Index)
		}
	}
	if !reflect.DeepEqual(rejected, []int{137, 800}) {
		t.Errorf("rejected %v, want [137 800]", rejected)
	}
	if len(res.Accepted) != 998 || len(res.MessageIDs) == 0 {
		t.Errorf("accepted %d in %d requests", len(res.Accepted), len(res.MessageIDs))
	}
	for i := range rs {
		want := 1
		if i == 137 || i == 800 {
			want = 0
		}
		if n := f.srv.Deliveries(rs[i].Email); n != want {
			t.Errorf("recipient %d delivered %d times, want %d", i, n, want)
		}
	}
	// Bisection: about 2 log2(1000) requests per bad address, far fewer than 1000.
	if res.Requests > 45 || res.Requests != f.srv.Stats().Requests {
		t.Errorf("%d requests (server saw %d)", res.Requests, f.srv.Stats().Requests)
	}
	for _, r := range f.srv.Batch("INC-1/b-000001") {
		if r.BatchKey != "INC-1/b-000001" {
			t.Errorf("part carries batch key %q", r.BatchKey)
		}
	}
}

func TestSplitStopsOnOtherErrors(t *testing.T) {
	t.Run("400 about the message is not split", func(t *testing.T) {
		calls := 0
		c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
			calls++
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"errors":[{"field":"from.email","message":"The from address does not match a verified Sender Identity."}]}`)
		})
		_, err := c.SendSplit(context.Background(), testBatch("INC-1/b-1", recipients(8, "r%d@example.com")))
		if !errors.Is(err, ErrBadRequest) || calls != 1 {
			t.Fatalf("got %v after %d calls", err, calls)
		}
	})
	t.Run("429 during a split returns the parts accepted so far", func(t *testing.T) {
		f := newFixture(t)
		f.srv.Reject("r6@example.com")
		// Request 1: whole batch, 400. Request 2: first half, accepted. Request 3: 429.
		f.srv.FaultEvery(3, sendgridtest.Fault{Kind: sendgridtest.RateLimit})
		res, err := f.client.SendSplit(context.Background(), testBatch("INC-1/b-1", recipients(8, "r%d@example.com")))
		if !errors.Is(err, ErrRateLimited) {
			t.Fatalf("got %v", err)
		}
		if !reflect.DeepEqual(res.Accepted, []int{0, 1, 2, 3}) || len(res.MessageIDs) != 1 || res.Requests != 3 {
			t.Errorf("result %+v", res)
		}
	})
}

func TestAmbiguousOnTimeoutAfterWrite(t *testing.T) {
	c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // never answers
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.SendBatch(ctx, testBatch("INC-1/b-1", recipients(2, "r%d@example.com")))
	if !errors.Is(err, ErrAmbiguous) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ambiguous deadline", err)
	}
}

func TestNotSentWhenConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := New(Config{APIKey: testKey, Host: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendBatch(context.Background(), testBatch("INC-1/b-1", recipients(2, "r%d@example.com")))
	if !errors.Is(err, ErrTemporary) || errors.Is(err, ErrAmbiguous) {
		t.Fatalf("got %v, want temporary (request never left)", err)
	}
}

func TestHost(t *testing.T) {
	t.Run("EU host is used", func(t *testing.T) {
		f := newFixture(t, withHost(EUHost))
		if _, err := f.client.Send(context.Background(), report()); err != nil {
			t.Fatal(err)
		}
		r := f.rec.requests()[0]
		if got := r.URL.Scheme + "://" + r.URL.Host + r.URL.Path; got != "https://api.eu.sendgrid.com/v3/mail/send" {
			t.Errorf("request went to %s", got)
		}
	})
	t.Run("SENDGRID_API_HOST", func(t *testing.T) {
		t.Setenv(EnvHost, EUHost+"/")
		f := newFixture(t, withHost(""))
		if f.client.Host() != EUHost {
			t.Fatalf("host %s", f.client.Host())
		}
		if _, err := f.client.FindByBatchKey(context.Background(), "INC-1/b-1"); err != nil {
			t.Fatal(err)
		}
		if r := f.rec.requests()[0]; r.URL.Host != "api.eu.sendgrid.com" || r.URL.Path != "/v3/messages" {
			t.Errorf("request went to %s", r.URL)
		}
	})
	t.Run("default", func(t *testing.T) {
		t.Setenv(EnvHost, "")
		c, err := New(Config{APIKey: "k"})
		if err != nil || c.Host() != DefaultHost {
			t.Fatalf("host %v, %v", c, err)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		for _, cfg := range []Config{
			{APIKey: "", Host: DefaultHost},
			{APIKey: "k", Host: "api.sendgrid.com"},
			{APIKey: "k", Host: "https://api.sendgrid.com/v3"},
			{APIKey: "k", Host: "ftp://api.sendgrid.com"},
			{APIKey: "k", Host: "https://apikey:SG.s3cr3t@api.sendgrid.com"},
			{APIKey: "k", Host: "https://api.sendgrid.com/?key=SG.s3cr3t"},
			{APIKey: "k", Host: "https://api.sendgrid.com/v3?key=SG.s3cr3t"},
		} {
			_, err := New(cfg)
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("New(%+v): %v", cfg.Host, err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("New: %q quotes the key pasted into the host", err)
			}
		}
	})
	t.Run("client does not print its key", func(t *testing.T) {
		c, _ := New(Config{APIKey: testKey, Host: DefaultHost})
		for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
			if strings.Contains(s, testKey) {
				t.Errorf("printed key: %s", s)
			}
		}
	})
}

func TestFindByBatchKey(t *testing.T) {
	t.Run("reconciles an ambiguous batch", func(t *testing.T) {
		f := newFixture(t)
		f.srv.Inject(sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept})
		b := testBatch("INC-1/b-000007", recipients(3, "Amb%d@example.com"))
		if _, err := f.client.SendBatch(context.Background(), b); !errors.Is(err, ErrAmbiguous) {
			t.Fatalf("got %v", err)
		}
		// Another batch of the same incident must not show up.
		if _, err := f.client.SendBatch(context.Background(), testBatch("INC-1/b-000008", recipients(2, "other%d@example.com"))); err != nil {
			t.Fatal(err)
		}
		msgs, err := f.client.FindByBatchKey(context.Background(), b.Key)
		if err != nil {
			t.Fatal(err)
		}
		reached := Reached(msgs)
		if len(msgs) != 3 || len(reached) != 3 {
			t.Fatalf("found %d messages", len(msgs))
		}
		for _, r := range b.Recipients {
			if _, ok := reached[mail.Normalize(r.Email)]; !ok {
				t.Errorf("recipient %s not found", r.Key)
			}
		}
		if msgs[0].Status != StatusDelivered || msgs[0].MsgID == "" {
			t.Errorf("message %+v", msgs[0])
		}
	})
	t.Run("nothing found for a batch that never arrived", func(t *testing.T) {
		f := newFixture(t)
		f.srv.Inject(sendgridtest.Fault{Kind: sendgridtest.DropBeforeAccept})
		b := testBatch("INC-1/b-000009", recipients(3, "r%d@example.com"))
		if _, err := f.client.SendBatch(context.Background(), b); !errors.Is(err, ErrAmbiguous) {
			t.Fatalf("got %v", err)
		}
		msgs, err := f.client.FindByBatchKey(context.Background(), b.Key)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("got %d messages, %v", len(msgs), err)
		}
	})
	t.Run("account without Email Activity", func(t *testing.T) {
		f := newFixture(t, withoutEmailActivity())
		if _, err := f.client.FindByBatchKey(context.Background(), "INC-1/b-1"); !errors.Is(err, ErrNoEmailActivity) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("404 means no Email Activity", func(t *testing.T) {
		c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
		})
		if _, err := c.FindByBatchKey(context.Background(), "INC-1/b-1"); !errors.Is(err, ErrNoEmailActivity) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("query syntax", func(t *testing.T) {
		var got string
		c := rawClient(t, func(w http.ResponseWriter, r *http.Request) {
			got = r.URL.Query().Get("query")
			io.WriteString(w, `{"messages":[]}`)
		})
		if _, err := c.FindByBatchKey(context.Background(), "INC-1/b-1"); err != nil {
			t.Fatal(err)
		}
		if want := `unique_args['batch_key']="INC-1/b-1"`; got != want {
			t.Errorf("query %q, want %q", got, want)
		}
		if _, err := c.FindByBatchKey(context.Background(), `x" OR 1=1`); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("unsafe key accepted: %v", err)
		}
	})
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name       string
		emails     []string
		size       int
		batches    []int // sizes
		invalid    []int
		duplicates []int
	}{
		{"empty", nil, 0, nil, nil, nil},
		{"exactly 1000", manyEmails(1000), 0, []int{1000}, nil, nil},
		{"2500 in threes of 1000", manyEmails(2500), 0, []int{1000, 1000, 500}, nil, nil},
		{"size above the limit is capped", manyEmails(1001), 5000, []int{1000, 1}, nil, nil},
		{"small size", manyEmails(7), 3, []int{3, 3, 1}, nil, nil},
		{
			"invalid and mixed-case duplicates",
			[]string{"a@example.com", "A@Example.COM", "not-an-address", "b@example.com", " a@example.com", "B@EXAMPLE.COM", "c@example.com"},
			2, []int{2, 1}, []int{2, 4}, []int{1, 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := make([]Recipient, len(tc.emails))
			for i, e := range tc.emails {
				rs[i] = Recipient{Key: fmt.Sprint(i), Email: e}
			}
			p := Plan(rs, tc.size)
			var sizes []int
			order := 0
			for _, b := range p.Batches {
				sizes = append(sizes, len(b))
				seen := map[string]bool{}
				for _, r := range b {
					n := mail.Normalize(r.Email)
					if seen[n] {
						t.Errorf("address repeated within a batch")
					}
					seen[n] = true
					var k int
					fmt.Sscan(r.Key, &k)
					if k < order {
						t.Errorf("order not kept")
					}
					order = k
				}
				if len(b) > MaxPersonalizations {
					t.Errorf("batch of %d", len(b))
				}
			}
			if !reflect.DeepEqual(sizes, tc.batches) || !reflect.DeepEqual(p.Invalid, tc.invalid) || !reflect.DeepEqual(p.Duplicates, tc.duplicates) {
				t.Errorf("sizes %v invalid %v duplicates %v; want %v %v %v", sizes, p.Invalid, p.Duplicates, tc.batches, tc.invalid, tc.duplicates)
			}
		})
	}
}

// TestPlannedBatchesAreAccepted: whatever Plan produces, the local server takes.
func TestPlannedBatchesAreAccepted(t *testing.T) {
	f := newFixture(t)
	emails := manyEmails(2100)
	emails[1500] = strings.ToUpper(emails[3]) // a mixed-case duplicate in another batch
	rs := make([]Recipient, len(emails))
	for i, e := range emails {
		rs[i] = Recipient{Email: e}
	}
	p := Plan(rs, 0)
	for i, b := range p.Batches {
		if _, err := f.client.SendBatch(context.Background(), testBatch(fmt.Sprintf("INC-1/b-%06d", i), b)); err != nil {
			t.Fatal(err)
		}
	}
	st := f.srv.Stats()
	if st.Delivered != 2099 || st.Duplicated != 0 || st.Requests != 3 {
		t.Errorf("stats %+v", st)
	}
}

func manyEmails(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user%d@example.com", i)
	}
	return out
}

func rawClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{APIKey: testKey, Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
