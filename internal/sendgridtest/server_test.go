package sendgridtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const key = "SG.local"

type body = map[string]any

func addr(e string) map[string]any { return map[string]any{"email": e} }

// personalizations returns n personalizations with per recipients each, addresses unique.
func personalizations(n, per int, batchKey string) []any {
	out := make([]any, n)
	for i := range out {
		to := make([]any, per)
		for j := range to {
			to[j] = addr(fmt.Sprintf("p%d.r%d@example.com", i, j))
		}
		out[i] = map[string]any{
			"to":          to,
			"custom_args": map[string]string{"batch_key": batchKey, "incident_id": "INC-1"},
		}
	}
	return out
}

func valid(n, per int) body {
	return body{
		"from":             addr("privacy@example.com"),
		"subject":          "Notice",
		"content":          []any{map[string]string{"type": "text/plain", "value": "Hello -name-"}},
		"personalizations": personalizations(n, per, "b-1"),
	}
}

type answer struct {
	status int
	header http.Header
	errors []struct {
		Field   *string `json:"field"`
		Message string  `json:"message"`
	}
}

func (a answer) fields() []string {
	var out []string
	for _, e := range a.errors {
		if e.Field == nil {
			out = append(out, "null")
		} else {
			out = append(out, *e.Field)
		}
	}
	return out
}

func do(t testing.TB, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode >= 400 && len(raw) > 0 {
		var e struct {
			Errors []struct {
				Field   *string `json:"field"`
				Message string  `json:"message"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("error body is not SendGrid's shape: %s", raw)
		}
		a.errors = e.Errors
	}
	return a
}

func post(t testing.TB, s *Server, b any) answer {
	t.Helper()
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return postRaw(t, s, raw, "application/json", "Bearer "+key)
}

func postRaw(t testing.TB, s *Server, raw []byte, contentType, auth string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v3/mail/send", bytes.NewReader(raw))
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req)
}

func TestMailSendContract(t *testing.T) {
	tooManyCats := valid(1, 1)
	tooManyCats["categories"] = strings.Split("a b c d e f g h i j k", " ")
	dupCats := valid(1, 1)
	dupCats["categories"] = []string{"a", "a"}
	tests := []struct {
		name   string
		body   func() body
		status int
		field  string // first error's field
	}{
		{"1000 personalizations of 1 are accepted", func() body { return valid(1000, 1) }, 202, ""},
		{"1 personalization of 1000 is accepted", func() body { return valid(1, 1000) }, 202, ""},
		{"1001 personalizations", func() body { return valid(1001, 1) }, 400, "personalizations"},
		{"1001 recipients in one personalization", func() body { return valid(1, 1001) }, 400, "personalizations"},
		{"1200 recipients over 600 personalizations", func() body { return valid(600, 2) }, 400, "personalizations"},
		{"no personalizations", func() body { b := valid(1, 1); delete(b, "personalizations"); return b }, 400, "personalizations"},
		{"personalization without to", func() body {
			b := valid(2, 1)
			b["personalizations"].([]any)[1] = map[string]any{"subject": "x"}
			return b
		}, 400, "personalizations.1.to"},
		{"invalid recipient", func() body {
			b := valid(2, 1)
			b["personalizations"].([]any)[1].(map[string]any)["to"] = []any{addr("nobody")}
			return b
		}, 400, "personalizations.1.to.0.email"},
		{"mixed-case duplicate across personalizations", func() body {
			b := valid(3, 1)
			b["personalizations"].([]any)[2].(map[string]any)["to"] = []any{addr("P0.R0@Example.COM")}
			return b
		}, 400, "personalizations.2.to"},
		{"duplicate between to and bcc", func() body {
			b := valid(1, 1)
			b["personalizations"].([]any)[0].(map[string]any)["bcc"] = []any{addr("p0.r0@example.com")}
			return b
		}, 400, "personalizations.0.bcc"},
		{"no from", func() body { b := valid(1, 1); delete(b, "from"); return b }, 400, "from"},
		{"invalid from", func() body { b := valid(1, 1); b["from"] = addr("privacy"); return b }, 400, "from.email"},
		{"no subject", func() body { b := valid(1, 1); delete(b, "subject"); return b }, 400, "subject"},
		{"subject in every personalization", func() body {
			b := valid(2, 1)
			delete(b, "subject")
			for _, p := range b["personalizations"].([]any) {
				p.(map[string]any)["subject"] = "Hi"
			}
			return b
		}, 202, ""},
		{"no content", func() body { b := valid(1, 1); delete(b, "content"); return b }, 400, "content"},
		{"template instead of subject and content", func() body {
			b := valid(1, 1)
			delete(b, "subject")
			delete(b, "content")
			b["template_id"] = "d-123"
			return b
		}, 202, ""},
		{"empty content value", func() body {
			b := valid(1, 1)
			b["content"] = []any{map[string]string{"type": "text/plain", "value": ""}}
			return b
		}, 400, "content.0.value"},
		{"text/plain after text/html", func() body {
			b := valid(1, 1)
			b["content"] = []any{map[string]string{"type": "text/html", "value": "<p>x</p>"}, map[string]string{"type": "text/plain", "value": "x"}}
			return b
		}, 400, "content"},
		{"11 categories", func() body { return tooManyCats }, 400, "categories"},
		{"repeated category", func() body { return dupCats }, 400, "categories"},
		{"substitutions over 10,000 bytes", func() body {
			b := valid(1, 1)
			b["personalizations"].([]any)[0].(map[string]any)["substitutions"] = map[string]string{"-x-": strings.Repeat("x", 10000)}
			return b
		}, 400, "personalizations.0.substitutions"},
		{"non-string substitution", func() body {
			b := valid(1, 1)
			b["personalizations"].([]any)[0].(map[string]any)["substitutions"] = map[string]any{"-x-": 1}
			return b
		}, 400, "personalizations.0.substitutions"},
		{"reply_to and reply_to_list", func() body {
			b := valid(1, 1)
			b["reply_to"] = addr("a@example.com")
			b["reply_to_list"] = []any{addr("b@example.com")}
			return b
		}, 400, "reply_to"},
		{"message-level custom_args object", func() body {
			b := valid(1, 1)
			b["custom_args"] = map[string]string{"k": "v"}
			return b
		}, 202, ""},
	}
	s := NewTest(t, Options{APIKey: key})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, s, tc.body())
			if a.status != tc.status {
				t.Fatalf("status %d, want %d (errors %v)", a.status, tc.status, a.fields())
			}
			if tc.status == 202 && a.header.Get("X-Message-Id") == "" {
				t.Error("202 without X-Message-Id")
			}
			if tc.field != "" && (len(a.errors) == 0 || a.fields()[0] != tc.field) {
				t.Errorf("error fields %v, want %s first", a.fields(), tc.field)
			}
		})
	}
	// Only accepted requests delivered.
	st := s.Stats()
	if st.Accepted != 5 || st.Delivered != 2004 {
		t.Errorf("stats %+v", st)
	}
}

func TestStringMap(t *testing.T) {
	tests := []struct {
		raw  string
		size int
		ok   bool
	}{
		{``, 0, true},
		{`null`, 0, true},
		{`{}`, 0, true},
		{` { "a" : "bc" , "d":"" } `, 4, true},
		{`{"-name-":"Ada \"the\" \\ Lovelace"}`, 6 + 23, true},
		{`{"a":1}`, 0, false},
		{`{"a":"b","c":{"d":"e"}}`, 0, false},
		{`{"a":null}`, 0, false},
		{`["a"]`, 0, false},
		{`"a"`, 0, false},
	}
	for _, tc := range tests {
		size, ok := stringMap(json.RawMessage(tc.raw))
		if size != tc.size || ok != tc.ok {
			t.Errorf("stringMap(%s) = %d, %v; want %d, %v", tc.raw, size, ok, tc.size, tc.ok)
		}
	}
}

func TestMailSendTransport(t *testing.T) {
	s := NewTest(t, Options{APIKey: key})
	raw, _ := json.Marshal(valid(1, 1))
	tests := []struct {
		name        string
		raw         []byte
		contentType string
		auth        string
		status      int
	}{
		{"no Authorization", raw, "application/json", "", 401},
		{"wrong key", raw, "application/json", "Bearer SG.other", 401},
		{"basic auth", raw, "application/json", "Basic eDp5", 401},
		{"not JSON", []byte(`{"from":`), "application/json", "Bearer " + key, 400},
		{"form body", raw, "application/x-www-form-urlencoded", "Bearer " + key, 400},
		{"JSON with charset", raw, "application/json; charset=utf-8", "Bearer " + key, 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a := postRaw(t, s, tc.raw, tc.contentType, tc.auth); a.status != tc.status {
				t.Errorf("status %d, want %d", a.status, tc.status)
			}
		})
	}
	t.Run("gzip body", func(t *testing.T) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(raw)
		zw.Close()
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v3/mail/send", &z)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Authorization", "Bearer "+key)
		if a := do(t, req); a.status != 202 {
			t.Errorf("status %d", a.status)
		}
	})
	t.Run("GET on mail send", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v3/mail/send", nil)
		if a := do(t, req); a.status != 405 {
			t.Errorf("status %d", a.status)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v3/nope", nil)
		if a := do(t, req); a.status != 404 {
			t.Errorf("status %d", a.status)
		}
	})
	t.Run("any key when none configured", func(t *testing.T) {
		open := NewTest(t, Options{})
		if a := postRaw(t, open, raw, "application/json", "Bearer anything"); a.status != 202 {
			t.Errorf("status %d", a.status)
		}
	})
}

func TestFaults(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := NewTest(t, Options{APIKey: key, Now: func() time.Time { return now }})
	s.Inject(Fault{Kind: RateLimit, Wait: 2500 * time.Millisecond}, Fault{Kind: ServerError})

	a := post(t, s, valid(1, 1))
	if a.status != 429 || a.header.Get("X-RateLimit-Reset") != strconv.FormatInt(now.Unix()+3, 10) {
		t.Errorf("status %d reset %q", a.status, a.header.Get("X-RateLimit-Reset"))
	}
	if a = post(t, s, valid(1, 1)); a.status != 500 {
		t.Errorf("status %d", a.status)
	}
	if a = post(t, s, valid(1, 1)); a.status != 202 {
		t.Errorf("status %d", a.status)
	}

	s.Reject("P0.R1@example.com")
	a = post(t, s, valid(1, 3))
	if a.status != 400 || len(a.fields()) != 1 || a.fields()[0] != "personalizations.0.to.1.email" {
		t.Errorf("status %d fields %v", a.status, a.fields())
	}

	// Dropped after accepting: no answer, but delivered.
	s.Inject(Fault{Kind: DropAfterAccept})
	b := valid(1, 1)
	b["personalizations"] = personalizations(1, 1, "b-drop")
	raw, _ := json.Marshal(b)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v3/mail/send", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped connection answered %d", resp.StatusCode)
	}
	if got := s.Batch("b-drop"); len(got) != 1 || !got[0].Dropped || got[0].Addresses[0] != "p0.r0@example.com" {
		t.Errorf("dropped request recorded as %+v", got)
	}

	s.FaultEvery(2, Fault{Kind: ServerError})
	var statuses []int
	for range 4 {
		statuses = append(statuses, post(t, s, valid(1, 1)).status)
	}
	s.ClearFaults()
	// Five requests so far, so the 6th and 8th fail.
	if fmt.Sprint(statuses) != "[500 202 500 202]" {
		t.Errorf("statuses %v", statuses)
	}
	st := s.Stats()
	if st.Requests != 9 || st.Faults != 5 || st.BadRequests != 1 {
		t.Errorf("stats %+v", st)
	}
	// p0.r0 went out in request 3, the dropped 5th, the 7th and the 9th.
	if n := s.Deliveries("P0.R0@EXAMPLE.COM"); n != 4 {
		t.Errorf("p0.r0 delivered %d times", n)
	}
	if d := s.Duplicates(); d["p0.r0@example.com"] != 4 || len(d) != 1 {
		t.Errorf("duplicates %v", d)
	}
}

func TestSandbox(t *testing.T) {
	s := NewTest(t, Options{APIKey: key})
	b := valid(2, 1)
	b["mail_settings"] = map[string]any{"sandbox_mode": map[string]bool{"enable": true}}
	if a := post(t, s, b); a.status != 200 {
		t.Fatalf("sandbox answered %d, want 200", a.status)
	}
	if s.Deliveries("p0.r0@example.com") != 0 || s.SandboxDeliveries("p0.r0@example.com") != 1 {
		t.Error("sandbox request counted as a delivery")
	}
	if st := s.Stats(); st.Sandboxed != 2 || st.Delivered != 0 {
		t.Errorf("stats %+v", st)
	}
	if reqs := s.Requests(); len(reqs) != 1 || !reqs[0].Sandbox || reqs[0].BatchKey != "b-1" || reqs[0].CustomArgs["incident_id"] != "INC-1" {
		t.Errorf("requests %+v", reqs)
	}
}

func query(t *testing.T, s *Server, q, limit string) (answer, []map[string]any) {
	t.Helper()
	v := url.Values{"query": {q}}
	if limit != "" {
		v.Set("limit", limit)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v3/messages?"+v.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Messages []map[string]any `json:"messages"`
	}
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return answer{status: resp.StatusCode}, out.Messages
}

func TestEmailActivity(t *testing.T) {
	s := NewTest(t, Options{APIKey: key})
	b := valid(3, 1)
	b["personalizations"] = personalizations(3, 1, "b-7")
	post(t, s, b)
	post(t, s, valid(2, 1)) // batch b-1

	a, msgs := query(t, s, `unique_args['batch_key']="b-7"`, "1000")
	if a.status != 200 || len(msgs) != 3 {
		t.Fatalf("status %d, %d messages", a.status, len(msgs))
	}
	for _, k := range []string{"from_email", "msg_id", "subject", "to_email", "status", "opens_count", "clicks_count", "last_event_time"} {
		if _, ok := msgs[0][k]; !ok {
			t.Errorf("message lacks required %s", k)
		}
	}
	if _, msgs = query(t, s, `unique_args['batch_key']="b-7"`, "2"); len(msgs) != 2 {
		t.Errorf("limit 2 gave %d", len(msgs))
	}
	if _, msgs = query(t, s, `unique_args['incident_id']="INC-1"`, "1000"); len(msgs) != 5 {
		t.Errorf("by incident: %d", len(msgs))
	}
	if _, msgs = query(t, s, `unique_args['batch_key']="nope"`, ""); len(msgs) != 0 {
		t.Errorf("unknown batch: %d", len(msgs))
	}
	for _, bad := range [][2]string{{`to_email="x@example.com" AND`, "10"}, {`unique_args['batch_key']="b-7"`, "1001"}, {`unique_args['batch_key']="b-7"`, "0"}} {
		if a, _ := query(t, s, bad[0], bad[1]); a.status != 400 {
			t.Errorf("query %q limit %s: status %d, want 400", bad[0], bad[1], a.status)
		}
	}
	s.SetEmailActivity(false)
	if a, _ := query(t, s, `unique_args['batch_key']="b-7"`, "10"); a.status != 403 {
		t.Errorf("without Email Activity: %d", a.status)
	}
}

func TestConcurrentRecording(t *testing.T) {
	s := NewTest(t, Options{APIKey: key})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				b := valid(100, 1)
				b["personalizations"] = personalizations(100, 1, fmt.Sprintf("b-%d-%d", w, i))
				if a := post(t, s, b); a.status != 202 {
					t.Errorf("status %d", a.status)
				}
			}
		})
	}
	wg.Wait()
	// Every worker sent the same 100 addresses 10 times.
	st := s.Stats()
	if st.Delivered != 8000 || st.Unique != 100 || st.Duplicated != 100 || st.Accepted != 80 {
		t.Errorf("stats %+v", st)
	}
	if n := s.Deliveries("p42.r0@example.com"); n != 80 {
		t.Errorf("p42 delivered %d", n)
	}
}

func TestStartOnAddress(t *testing.T) {
	s, err := Start("127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s", s.URL)
	}
	if _, err := Start(strings.TrimPrefix(s.URL, "http://"), Options{}); err == nil {
		t.Error("second server on the same address started")
	}
}

// BenchmarkMailSend1000 posts requests of 1,000 personalizations, as the notification
// benchmark does 1,000 times for 1,000,000 recipients. Every address is new, so the
// server's recording grows as it would (run with -benchtime 1000x for the full million).
func BenchmarkMailSend1000(b *testing.B) {
	s := NewTest(b, Options{APIKey: key})
	to := make([]any, 1000)
	for j := range to {
		to[j] = map[string]any{
			"to":            []any{addr(fmt.Sprintf("subject-ITER-%d@example.com", j))},
			"substitutions": map[string]string{"-name-": "Customer Name", "-data-": "email address, postal address"},
			"custom_args":   map[string]string{"batch_key": "b-ITER", "incident_id": "INC-1"},
		}
	}
	tmpl, _ := json.Marshal(body{
		"from": addr("privacy@example.com"), "subject": "Notice",
		"content":          []any{map[string]string{"type": "text/plain", "value": "Dear -name-, -data-"}},
		"personalizations": to,
	})
	b.SetBytes(int64(len(tmpl)))
	for i := 0; b.Loop(); i++ {
		raw := bytes.ReplaceAll(tmpl, []byte("ITER"), []byte(strconv.Itoa(i)))
		if a := postRaw(b, s, raw, "application/json", "Bearer "+key); a.status != 202 {
			b.Fatalf("status %d", a.status)
		}
	}
	st := s.Stats()
	if st.Duplicated != 0 {
		b.Fatalf("%d duplicated", st.Duplicated)
	}
	b.ReportMetric(float64(st.Delivered)/b.Elapsed().Seconds(), "recipients/s")
}
