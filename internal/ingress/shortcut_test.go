package ingress_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/ingress"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// subjectsCSV is a corrected export of the people affected, made up; personMarker is in it and
// must never appear in anything breach says or logs.
const (
	personMarker = "subject-1@example.net"
	subjectsCSV  = "id,email,country\nC1," + personMarker + ",DE\nC2,subject-2@example.net,FR\n"
	sharedName   = "subjects corrected.csv"
)

// setStatus changes the incident's state as the workflow would.
func (h *harness) setStatus(change func(st *incident.Status)) {
	h.temporal.mu.Lock()
	defer h.temporal.mu.Unlock()
	st := h.temporal.running[incidentID]
	change(&st)
	h.temporal.running[incidentID] = st
}

// scopeWaits is an incident whose dataset failed: the scope phase waits for another.
func scopeWaits(st *incident.Status) {
	st.Phase = incident.PhaseAssess
	st.ScopeError = "the dataset has no column country (line 1); add it"
	st.Pending = []incident.PendingStep{{Step: incident.UpdateReplaceSubjects, Role: incident.RoleCommander, Description: "Provide a corrected subjects dataset"}}
}

// decided is an incident the DPO has decided.
func decided(st *incident.Status) {
	st.Phase = incident.PhaseNotify
	st.Decision = &incident.Decision{By: actorOf(dpoID), Risk: "high", Reasoning: "Order histories were downloaded."}
}

// storedNames lists the datasets of the store.
func (h *harness) storedNames() []string {
	h.t.Helper()
	infos, err := h.store.List()
	require.NoError(h.t, err)
	var out []string
	for _, i := range infos {
		out = append(out, i.Name)
	}
	return out
}

// saidNothingOfTheContent checks that no reply and no log line carries the shared file's content.
func (h *harness) saidNothingOfTheContent() {
	h.t.Helper()
	for _, e := range h.ws.Ephemerals() {
		assert.NotContains(h.t, e.Text, personMarker, "a reply shows the file's content")
	}
	assert.NotContains(h.t, h.logs.String(), personMarker, "the log shows the file's content")
}

// shortcutOn runs the dataset shortcut on m as p, with its payload changed by mutate.
func shortcutOn(t *testing.T, p *slackfake.Person, m slackfake.Message, mutate func(payload map[string]any)) slackfake.Result {
	t.Helper()
	payload, err := p.ShortcutPayload(m, breachslack.ShortcutUseDataset)
	require.NoError(t, err)
	if mutate != nil {
		mutate(payload)
	}
	raw, err := json.Marshal(payload)
	require.NoError(t, err)
	res, err := p.Send(ingress.PathInteractions, []byte("payload="+urlEscape(string(raw))))
	require.NoError(t, err)
	return res
}

// sharedFile changes the first file of a shortcut's message.
func sharedFile(change func(f map[string]any)) func(map[string]any) {
	return func(p map[string]any) {
		change(p["message"].(map[string]any)["files"].([]any)[0].(map[string]any))
	}
}

// A CSV shared in the incident's channel becomes its dataset: stored in the store under its
// name and content hash, then given to the scope phase that waits for one (replace-subjects),
// or, once the DPO has decided, to the DPO's amendment; each Update signed by the ingress.
func TestSharedCSVBecomesTheDataset(t *testing.T) {
	sum := sha256.Sum256([]byte(subjectsCSV))
	want := datasets.DerivedName(sharedName, hex.EncodeToString(sum[:]))
	tests := []struct {
		name   string
		state  func(st *incident.Status)
		who    string
		update string // "" when none is sent
		said   []string
	}{
		{name: "a commander, the scope waiting for a dataset", state: scopeWaits, who: icID, update: incident.UpdateReplaceSubjects,
			said: []string{"is stored as the dataset `" + want + "`", "The scope of " + incidentID + " is assessed again"}},
		{name: "the DPO, the scope waiting for a dataset", state: scopeWaits, who: dpoID, update: incident.UpdateReplaceSubjects,
			said: []string{"assessed again"}},
		{name: "the DPO, after the decision", state: decided, who: dpoID, update: incident.UpdateAmend,
			said: []string{"is stored as the dataset", "decision of " + incidentID + " is amended"}},
		{name: "a commander, after the decision", state: decided, who: icID,
			said: []string{"is stored as the dataset", "only the DPO can amend", "breach amend " + incidentID + " --dataset " + want}},
		{name: "nothing waits for a dataset", state: func(*incident.Status) {}, who: icID,
			said: []string{"is stored as the dataset", "is not waiting for a dataset now", "breach subjects " + incidentID + " --dataset " + want}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, key, err := ed25519.GenerateKey(rand.Reader)
			require.NoError(t, err)
			h := newHarnessWith(t, options{configure: func(c *ingress.Config) { c.Signer = key }})
			room := h.incident()
			h.setStatus(tt.state)
			m, err := h.ws.ShareFile(room.ID, tt.who, sharedName, []byte(subjectsCSV))
			require.NoError(t, err)
			p := map[string]*slackfake.Person{icID: h.ic, dpoID: h.dpo}[tt.who]

			res, err := p.Shortcut(m, breachslack.ShortcutUseDataset)
			require.NoError(t, err)
			assert.Equal(t, 200, res.Status)
			assert.Empty(t, res.Body, "acknowledged at once, the work after")
			h.srv.Wait()

			assert.ElementsMatch(t, []string{storedDataset, want}, h.storedNames())
			got, err := os.ReadFile(filepath.Join(h.store.Dir(), want))
			require.NoError(t, err)
			assert.Equal(t, subjectsCSV, string(got))
			said := h.ephemeralsFor(tt.who)
			require.Len(t, said, 1, "one answer, to the person only")
			for _, w := range tt.said {
				assert.Contains(t, said[0], w)
			}
			h.saidNothingOfTheContent()

			ups := h.temporal.Updates()
			if tt.update == "" {
				assert.Empty(t, ups)
				return
			}
			require.Len(t, ups, 1)
			assert.Equal(t, tt.update, ups[0].Name)
			ref := incident.DatasetRef{URI: datasets.Ref(want)}
			var sig *incident.Signature
			var by string
			var unsigned any
			switch r := ups[0].Arg.(type) {
			case incident.ReplaceSubjectsRequest:
				assert.Equal(t, ref, r.Subjects)
				by, sig, unsigned = r.Signed()
			case incident.AmendRequest:
				require.NotNil(t, r.Subjects)
				assert.Equal(t, ref, *r.Subjects)
				by, sig, unsigned = r.Signed()
			default:
				t.Fatalf("sent a %T", r)
			}
			assert.Equal(t, actorOf(tt.who), by)
			require.NotNil(t, sig, "the ingress must sign")
			keys := incident.Keys{SlackIngress: incident.EncodePublicKey(key.Public().(ed25519.PublicKey))}
			require.NoError(t, keys.Verify(sig, by, incidentID, tt.update, unsigned, time.Now(), false))
		})
	}
}

// A shared CSV is refused, nothing stored and no Update sent, unless an incident commander or
// the DPO asks in the incident's own channel for one CSV within the store's limit, which Slack
// hands over to the bot token.
func TestSharedCSVRefused(t *testing.T) {
	big := strings.Repeat("C9,someone@example.net,DE\n", 2600) // 67,600 bytes
	tests := []struct {
		name string
		// who runs the shortcut: a commander unless set
		who func(h *harness, room incident.Room) *slackfake.Person
		// channel is where the file is shared: the incident's room unless set
		channel    func(h *harness, room incident.Room, p *slackfake.Person) string
		file       string // the shared file's name, sharedName unless set
		content    string // subjectsCSV unless set
		datasetMax int64
		state      func(st *incident.Status)
		configure  func(c *ingress.Config)
		faults     func(method string, call int) *slackfake.Fault
		payload    func(p map[string]any)
		said       []string
		downloads  int
	}{
		{name: "a member of the channel without a role",
			who: func(h *harness, room incident.Room) *slackfake.Person {
				p := h.person("UMEMBER01", "carl")
				require.NoError(h.t, h.ws.Join(room.ID, p.ID))
				return p
			},
			said: []string{"Only an incident commander or the DPO of " + incidentID + " may give its dataset"}},
		{name: "a commander, in a channel whose purpose names the incident",
			channel: func(h *harness, room incident.Room, p *slackfake.Person) string {
				ch := h.ws.AddChannel("general-chat", false)
				require.NoError(h.t, h.ws.Join(ch.ID, p.ID))
				require.NoError(h.t, h.ws.Join(ch.ID, slackfake.BotUserID))
				_, err := breachslack.NewAPI(botToken, h.ws.APIURL(), nil).SetPurposeOfConversation(ch.ID, "Breach incident "+incidentID)
				require.NoError(h.t, err)
				return ch.ID
			},
			said: []string{"This channel is not a running incident's channel"}},
		{name: "a file larger than the store takes, as Slack says", datasetMax: 1024, content: big,
			said: []string{"is 67.6 kB, more than the dataset store takes (1.0 kB, datasets.max_bytes)"}},
		// Slack's file host sends a small body with its Content-Length, a big one chunked: the
		// stream itself is cut at the limit.
		{name: "a size that lies, with a bigger body (with its Content-Length)", datasetMax: 1024, content: big[:1500],
			payload:   sharedFile(func(f map[string]any) { f["size"] = 10 }),
			said:      []string{"is larger than the dataset store takes (1.0 kB"},
			downloads: 1},
		{name: "a size that lies, with a bigger body (chunked)", datasetMax: 1024, content: big,
			payload:   sharedFile(func(f map[string]any) { f["size"] = 10 }),
			said:      []string{"is larger than the dataset store takes (1.0 kB"},
			downloads: 1},
		{name: "not a CSV", file: "notes.pdf", said: []string{"`notes.pdf` is not a CSV file"}},
		{name: "a message without a file",
			payload: func(p map[string]any) { delete(p["message"].(map[string]any), "files") },
			said:    []string{"This message shares no file"}},
		{name: "two CSV files",
			payload: func(p map[string]any) {
				msg := p["message"].(map[string]any)
				msg["files"] = append(msg["files"].([]any), msg["files"].([]any)[0])
			},
			said: []string{"This message shares 2 CSV files"}},
		{name: "no download address", payload: sharedFile(func(f map[string]any) { delete(f, "url_private_download") }),
			said: []string{"Slack did not give breach the download address"}},
		{name: "the bot token missing", configure: func(c *ingress.Config) { c.BotToken = "" },
			said: []string{"Slack refused breach the download of `" + sharedName + "` (HTTP 401)", "SLACK_BOT_TOKEN", "files:read"}, downloads: 1},
		{name: "the bot token wrong", configure: func(c *ingress.Config) { c.BotToken = "xoxb-revoked" },
			said: []string{"(HTTP 403)", "SLACK_BOT_TOKEN"}, downloads: 1},
		{name: "Slack failing", faults: func(method string, call int) *slackfake.Fault {
			if method == slackfake.DownloadMethod {
				return &slackfake.Fault{Status: http.StatusInternalServerError}
			}
			return nil
		}, said: []string{"Slack did not hand over `" + sharedName + "` (HTTP 500); try again"}, downloads: 3},
		{name: "a closed incident", state: func(st *incident.Status) { st.Phase, st.ClosedAt = incident.PhaseClosed, time.Now() },
			said: []string{incidentID + " is closed"}},
		{name: "no dataset store", configure: func(c *ingress.Config) { c.Datasets = nil },
			said: []string{"has no dataset store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessWith(t, options{datasetMax: tt.datasetMax, configure: tt.configure})
			room := h.incident()
			h.setStatus(scopeWaits)
			if tt.state != nil {
				h.setStatus(tt.state)
			}
			p := h.ic
			if tt.who != nil {
				p = tt.who(h, room)
			}
			channel := room.ID
			if tt.channel != nil {
				channel = tt.channel(h, room, p)
			}
			name, content := sharedName, subjectsCSV
			if tt.file != "" {
				name = tt.file
			}
			if tt.content != "" {
				content = tt.content
			}
			m, err := h.ws.ShareFile(channel, p.ID, name, []byte(content))
			require.NoError(t, err)
			h.ws.SetFaults(tt.faults)

			res := shortcutOn(t, p, m, tt.payload)
			assert.Equal(t, 200, res.Status)
			h.srv.Wait()

			said := h.ephemeralsFor(p.ID)
			require.Len(t, said, 1, "one answer, to the person only")
			for _, w := range tt.said {
				assert.Contains(t, said[0], w)
			}
			assert.Contains(t, said[0], "Nothing was stored.")
			assert.Equal(t, []string{storedDataset}, h.storedNames(), "nothing was stored")
			entries, err := os.ReadDir(h.store.Dir())
			require.NoError(t, err)
			assert.Len(t, entries, 1, "nothing was left in the store's directory")
			assert.Empty(t, h.temporal.Updates())
			assert.Equal(t, tt.downloads, h.ws.Calls(slackfake.DownloadMethod), "downloads")
			h.saidNothingOfTheContent()
		})
	}
}

// The bot token goes to Slack's file host only: a url_private_download anywhere else is never
// fetched, nor is a redirect off the file host followed.
func TestSharedFilesOnlyFromSlacksFileHost(t *testing.T) {
	t.Run("a local listener named as the download URL is never requested", func(t *testing.T) {
		var hits atomic.Int64
		listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			_, _ = w.Write([]byte(subjectsCSV))
		}))
		defer listener.Close()
		h := newHarness(t)
		room := h.incident()
		h.setStatus(scopeWaits)
		m, err := h.ws.ShareFile(room.ID, icID, sharedName, []byte(subjectsCSV))
		require.NoError(t, err)
		shortcutOn(t, h.ic, m, sharedFile(func(f map[string]any) {
			f["url_private_download"] = listener.URL + "/files-pri/T0BREACH-F00000001/download/subjects.csv"
		}))
		h.srv.Wait()
		assert.Zero(t, hits.Load(), "the listener was requested")
		said := h.ephemeralsFor(icID)
		require.Len(t, said, 1)
		assert.Contains(t, said[0], "only from Slack's file host (files.slack.com)")
		assert.Contains(t, h.logs.String(), "slack file not fetched: not on Slack's file host")
		assert.Equal(t, []string{storedDataset}, h.storedNames())
		assert.Empty(t, h.temporal.Updates())
	})

	tests := []struct {
		url     string
		fetched bool
	}{
		{"https://files.slack.com/files-pri/T0BREACH-F0AB12CD3/download/subjects.csv", true},
		{"https://files.slack.com:443/files-pri/T0BREACH-F0AB12CD3/download/subjects.csv", true},
		{"http://files.slack.com/files-pri/T0BREACH-F0AB12CD3/download/subjects.csv", false},
		{"https://files.slack.com:8443/files-pri/x.csv", false},
		{"https://hooks.slack.com/files-pri/x.csv", false},
		{"https://files.slack.com.evil.example/x.csv", false},
		{"https://evil.example/files.slack.com/x.csv", false},
		{"https://files.slack.com@evil.example/x.csv", false},
		{"https://169.254.169.254/latest/meta-data/", false},
		{"http://127.0.0.1:7233/", false},
		{"file:///etc/passwd", false},
		{"files.slack.com/files-pri/x.csv", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			rec := &recorder{}
			h := newHarnessWith(t, options{configure: func(c *ingress.Config) { c.HTTPClient = &http.Client{Transport: rec} }})
			room := h.incident()
			m, err := h.ws.ShareFile(room.ID, icID, sharedName, []byte(subjectsCSV))
			require.NoError(t, err)
			shortcutOn(t, h.ic, m, sharedFile(func(f map[string]any) { f["url_private_download"] = tt.url }))
			h.srv.Wait()
			if tt.fetched {
				assert.Equal(t, []string{tt.url}, rec.urls())
				assert.Len(t, h.storedNames(), 2, "what Slack's file host answered is stored")
				return
			}
			assert.Empty(t, rec.urls())
			assert.Equal(t, []string{storedDataset}, h.storedNames())
		})
	}

	t.Run("a redirect off Slack's file host is not followed", func(t *testing.T) {
		const start = "https://files.slack.com/files-pri/T0BREACH-F0AB12CD3/download/subjects.csv"
		rec := &recorder{redirect: map[string]string{start: "http://169.254.169.254/latest/meta-data/"}}
		h := newHarnessWith(t, options{configure: func(c *ingress.Config) { c.HTTPClient = &http.Client{Transport: rec} }})
		room := h.incident()
		m, err := h.ws.ShareFile(room.ID, icID, sharedName, []byte(subjectsCSV))
		require.NoError(t, err)
		shortcutOn(t, h.ic, m, sharedFile(func(f map[string]any) { f["url_private_download"] = start }))
		h.srv.Wait()
		assert.Equal(t, []string{start}, rec.urls())
		said := h.ephemeralsFor(icID)
		require.Len(t, said, 1)
		assert.Contains(t, said[0], "elsewhere than its file host")
		assert.Equal(t, []string{storedDataset}, h.storedNames())
	})
}

// Slack failing once is asked again; a shortcut delivered twice is acted on once.
func TestSharedCSVThroughSlackFailuresAndRedeliveries(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	h.setStatus(scopeWaits)
	h.ws.SetFaults(func(method string, call int) *slackfake.Fault {
		if method == slackfake.DownloadMethod && call == 1 {
			return &slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}
		}
		return nil
	})
	m, err := h.ws.ShareFile(room.ID, icID, sharedName, []byte(subjectsCSV))
	require.NoError(t, err)
	res, err := h.ic.Shortcut(m, breachslack.ShortcutUseDataset)
	require.NoError(t, err)
	_, err = h.ic.Do(res.Request, res.Payload)
	require.NoError(t, err)
	h.srv.Wait()
	assert.Equal(t, 2, h.ws.Calls(slackfake.DownloadMethod), "the rate-limited download is asked again, once")
	assert.Len(t, h.storedNames(), 2)
	require.Len(t, h.temporal.Updates(), 1, "a redelivery is not acted on")
	assert.Len(t, h.ephemeralsFor(icID), 1)
}

// A file host that never stops sending is cut at the store's limit: breach reads a little past
// it, refuses, and hangs up.
func TestSharedFileCutAtTheLimit(t *testing.T) {
	var sent atomic.Int64
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		row := []byte(strings.Repeat("C9,someone@example.net,DE\n", 40))
		for r.Context().Err() == nil {
			n, err := w.Write(row)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	host := strings.TrimPrefix(endless.URL, "http://")
	h := newHarnessWith(t, options{datasetMax: 64 << 10, configure: func(c *ingress.Config) {
		c.FileHosts = append(c.FileHosts, host)
		// Without the cut, the download would run until this ends.
		c.DownloadTimeout = 20 * time.Second
	}})
	room := h.incident()
	h.setStatus(scopeWaits)
	m, err := h.ws.ShareFile(room.ID, icID, sharedName, []byte(subjectsCSV))
	require.NoError(t, err)
	shortcutOn(t, h.ic, m, sharedFile(func(f map[string]any) {
		f["url_private_download"] = endless.URL + "/files-pri/T0BREACH-F1/download/subjects.csv"
	}))
	h.srv.Wait()
	said := h.ephemeralsFor(icID)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "is larger than the dataset store takes (65.5 kB")
	assert.Equal(t, []string{storedDataset}, h.storedNames())
	assert.Less(t, sent.Load(), int64(8<<20), "breach kept reading past the limit")
	assert.Empty(t, h.temporal.Updates())
}
