package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/console"
)

// 2024-03-06 01:00 in UTC+2 is still 5 March in UTC.
var day = time.Date(2024, 3, 6, 1, 0, 0, 0, time.FixedZone("EET", 2*3600))

var channelPattern = regexp.MustCompile(`^(inc|drill)-[0-9]{8}-[a-z0-9]+(-[a-z0-9]+)*$`)

func TestChannelName(t *testing.T) {
	tests := []struct {
		title string
		drill bool
		want  string
	}{
		{"Database leak", false, "inc-20240305-database-leak"},
		{"Database leak", true, "drill-20240305-database-leak"},
		{"CRM Export On S3", false, "inc-20240305-crm-export-on-s3"},
		{"Daten-Leck bei Müller & Söhne!!", false, "inc-20240305-daten-leck-bei-m-ller-s-hne"},
		{"  --Hello,,, World--  ", false, "inc-20240305-hello-world"},
		{"a/b\\c_d.e:f", false, "inc-20240305-a-b-c-d-e-f"},
		{"tab\tand\nnewline", false, "inc-20240305-tab-and-newline"},
		{"", false, "inc-20240305-incident"},
		{"!!! ???", true, "drill-20240305-incident"},
		{"日本語のインシデント", false, "inc-20240305-incident"},
		{"Ölunfall 2024", false, "inc-20240305-lunfall-2024"},
		{strings.Repeat("a", 100), false, "inc-20240305-" + strings.Repeat("a", 67)},
		// The cut at 80 falls just after a dash, which is dropped.
		{strings.Repeat("x", 66) + " yyyy", false, "inc-20240305-" + strings.Repeat("x", 66)},
		{strings.Repeat("Ünïcödé ", 30), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			got := console.ChannelName("INC-20240305-0001", tt.title, tt.drill, day)
			if tt.want != "" {
				assert.Equal(t, tt.want, got)
			}
			assert.LessOrEqual(t, len(got), 80)
			assert.Regexp(t, channelPattern, got)
		})
	}
}

func TestSlug(t *testing.T) {
	assert.Equal(t, "payment-db-1-exposed", console.Slug("Payment DB-1 exposed"))
	assert.Equal(t, "incident", console.Slug("—"))
}

func newChat(t *testing.T) (*console.Chat, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	now := time.Date(2024, 3, 5, 15, 30, 0, 0, time.FixedZone("CET", 3600))
	return &console.Chat{Dir: t.TempDir(), Out: &out, Now: func() time.Time { return now }}, &out
}

func readLog(t *testing.T, c *console.Chat, incidentID string) string {
	t.Helper()
	path, err := console.LogPath(c.Dir, incidentID)
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestPostAppendsToLogAndOut(t *testing.T) {
	c, out := newChat(t)
	ctx := context.Background()

	require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20240305-0001", Kind: "containment", Text: "db-1 isolated via nftables"}))
	require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20240305-0001", Kind: "deadline", Text: "GDPR Art. 33 report due in 12h", Urgent: true}))
	require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20240305-0002", Kind: "note", Text: "another incident"}))

	want := "2024-03-05T14:30:00Z [INC-20240305-0001] containment: db-1 isolated via nftables\n" +
		"2024-03-05T14:30:00Z [INC-20240305-0001] ! deadline: GDPR Art. 33 report due in 12h\n"
	assert.Equal(t, want, readLog(t, c, "INC-20240305-0001"))
	assert.Equal(t, "2024-03-05T14:30:00Z [INC-20240305-0002] note: another incident\n", readLog(t, c, "INC-20240305-0002"))
	assert.Equal(t, want+"2024-03-05T14:30:00Z [INC-20240305-0002] note: another incident\n", out.String())
	path, err := console.LogPath(c.Dir, "INC-20240305-0001")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(c.Dir, "incidents", "INC-20240305-0001", "incident.log"), path)

	// A new adapter over the same directory (a restarted worker) appends, it does not truncate.
	again := &console.Chat{Dir: c.Dir, Now: c.Now}
	require.NoError(t, again.Post(ctx, incident.ChatMessage{IncidentID: "INC-20240305-0001", Kind: "note", Text: "after restart"}))
	assert.Equal(t, want+"2024-03-05T14:30:00Z [INC-20240305-0001] note: after restart\n", readLog(t, c, "INC-20240305-0001"))
}

func TestPostMarksDrills(t *testing.T) {
	c, out := newChat(t)
	require.NoError(t, c.Post(context.Background(), incident.ChatMessage{IncidentID: "INC-20240305-0009", Kind: "decision", Text: "DPO decides: high risk", Drill: true, Urgent: true}))
	line := "2024-03-05T14:30:00Z [INC-20240305-0009] ! decision: [DRILL] DPO decides: high risk\n"
	assert.Equal(t, line, readLog(t, c, "INC-20240305-0009"))
	assert.Equal(t, line, out.String())

	require.NoError(t, c.Post(context.Background(), incident.ChatMessage{IncidentID: "INC-20240305-0010", Kind: "note", Text: "real"}))
	assert.NotContains(t, readLog(t, c, "INC-20240305-0010"), "DRILL")
}

func TestOpenRoom(t *testing.T) {
	c, out := newChat(t)
	room, err := c.OpenRoom(context.Background(), incident.RoomRequest{IncidentID: "INC-20240305-0001", Title: "Payment DB exposed", DeclaredBy: "ann", Drill: true})
	require.NoError(t, err)
	path, err := console.LogPath(c.Dir, "INC-20240305-0001")
	require.NoError(t, err)
	assert.Equal(t, incident.Room{ID: path, Name: "#drill-20240305-payment-db-exposed"}, room)
	line := "2024-03-05T14:30:00Z [INC-20240305-0001] room: #drill-20240305-payment-db-exposed opened for INC-20240305-0001 (declared by ann)\n"
	assert.Equal(t, line, readLog(t, c, "INC-20240305-0001"))
	assert.Equal(t, line, out.String())
}

func TestConcurrentPostsKeepWholeLines(t *testing.T) {
	c, out := newChat(t)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, c.Post(context.Background(), incident.ChatMessage{IncidentID: "INC-20240305-0001", Kind: "note", Text: fmt.Sprintf("message %02d", i)}))
		}()
	}
	wg.Wait()

	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("2024-03-05T14:30:00Z [INC-20240305-0001] note: message %02d", i))
	}
	for _, got := range []string{readLog(t, c, "INC-20240305-0001"), out.String()} {
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		sort.Strings(lines)
		assert.Equal(t, want, lines)
	}
}

// An ID that is not an incident ID is an error, never a path: nothing is written for it, inside
// the directory or out of it.
func TestBadIncidentIDsWriteNothing(t *testing.T) {
	for _, id := range []string{"../../x", "..", "INC-1", "INC-20240305-0001/../../x", "/etc/passwd", ""} {
		t.Run(id, func(t *testing.T) {
			root := t.TempDir()
			c, _ := newChat(t)
			c.Dir = filepath.Join(root, "home")
			ctx := context.Background()
			_, err := c.OpenRoom(ctx, incident.RoomRequest{IncidentID: id, Title: "t", DeclaredBy: "ann"})
			assert.ErrorContains(t, err, "not an incident ID")
			assert.ErrorContains(t, c.Post(ctx, incident.ChatMessage{IncidentID: id, Kind: "note", Text: "x"}), "not an incident ID")
			assert.ErrorContains(t, c.UpdateCard(ctx, incident.Card{IncidentID: id, Title: "t"}), "not an incident ID")
			_, err = console.LogPath(c.Dir, id)
			assert.ErrorContains(t, err, "not an incident ID")
			_, err = console.CardPath(c.Dir, id)
			assert.ErrorContains(t, err, "not an incident ID")
			var files []string
			require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files = append(files, p)
				}
				return err
			}))
			assert.Empty(t, files)
		})
	}
}
