package slackfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	slackgo "github.com/slack-go/slack"
)

// A shared file is served only to the bot token, and a message shortcut on its message carries
// it as Slack's payload does.
func TestSharedFilesAndMessageShortcuts(t *testing.T) {
	const token, csv = "xoxb-files", "id,email\n1,a@example.net\n"
	w := New(token)
	defer w.Close()
	ch := w.AddChannel("inc-20261128-leak", true)
	if _, err := w.ShareFile(ch.ID, "UMEMBER01", "subjects.csv", []byte(csv)); err == nil {
		t.Fatal("someone who is not in the channel shared a file there")
	}
	if err := w.Join(ch.ID, "UMEMBER01"); err != nil {
		t.Fatal(err)
	}
	m, err := w.ShareFile(ch.ID, "UMEMBER01", "subjects.csv", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 1 || m.Files[0].Size != int64(len(csv)) || w.Messages(ch.ID)[0].TS != m.TS {
		t.Fatalf("shared %+v", m)
	}

	get := func(auth string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, m.Files[0].URLPrivateDownload, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tests := []struct {
		name, auth string
		fault      *Fault
		status     int
	}{
		{name: "no token", status: http.StatusUnauthorized},
		{name: "another token", auth: "Bearer xoxb-other", status: http.StatusForbidden},
		{name: "the token as a query is no token", auth: "token " + token, status: http.StatusForbidden},
		{name: "Slack failing", auth: "Bearer " + token, fault: &Fault{Status: http.StatusServiceUnavailable}, status: http.StatusServiceUnavailable},
		{name: "the bot token", auth: "Bearer " + token, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.SetFaults(func(method string, call int) *Fault {
				if method == DownloadMethod {
					return tt.fault
				}
				return nil
			})
			status, body := get(tt.auth)
			if status != tt.status {
				t.Fatalf("download: %d %s, want %d", status, body, tt.status)
			}
			if (status == http.StatusOK) != (body == csv) {
				t.Fatalf("download answered %d with %q", status, body)
			}
		})
	}
	if w.Calls(DownloadMethod) != len(tests) {
		t.Errorf("%d downloads counted, want %d", w.Calls(DownloadMethod), len(tests))
	}

	outsider := &Person{ID: "UOUTSIDE1", Name: "olga", WS: w}
	if _, err := outsider.ShortcutPayload(m, "breach_use_dataset"); err == nil {
		t.Error("someone outside the channel ran a shortcut on one of its messages")
	}
	member := &Person{ID: "UMEMBER01", Name: "ian", WS: w}
	p, err := member.ShortcutPayload(m, "breach_use_dataset")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p["api_app_id"]; ok {
		t.Error("Slack's message shortcut payloads have no api_app_id")
	}
	raw, _ := json.Marshal(p)
	var cb slackgo.InteractionCallback
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Type != slackgo.InteractionTypeMessageAction || cb.CallbackID != "breach_use_dataset" || cb.Channel.ID != ch.ID ||
		cb.MessageTs != m.TS || cb.Team.ID != DefaultTeam || cb.User.ID != member.ID || cb.TriggerID == "" {
		t.Fatalf("payload %s", raw)
	}
	if len(cb.Message.Files) != 1 {
		t.Fatalf("the message's files: %s", raw)
	}
	f := cb.Message.Files[0]
	if f.Name != "subjects.csv" || f.Size != len(csv) || f.URLPrivateDownload != m.Files[0].URLPrivateDownload || f.Filetype != "csv" {
		t.Fatalf("the file as Slack shows it: %+v", f)
	}
	if u, err := url.Parse(cb.ResponseURL); err != nil || !strings.HasPrefix(u.Path, "/response/") {
		t.Errorf("response_url %q", cb.ResponseURL)
	}
}
