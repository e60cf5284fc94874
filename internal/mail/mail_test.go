package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/store/storetest"
)

func TestValidAddress(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"a@example.com", true},
		{"first.last+tag@sub.example.co.uk", true},
		{"Ann.Lee@Example.COM", true},
		{"o'brien@example.ie", true},
		{"", false},
		{"a@localhost", false},
		{"@example.com", false},
		{"a@", false},
		{"a", false},
		{"a@.example.com", false},
		{"a@example.com.", false},
		{"a@@example.com", false},
		{"a..b@example.com", false},
		{".a@example.com", false},
		{"Ann <a@example.com>", false},
		{"<a@example.com>", false},
		{"a@example.com, b@example.com", false},
		{"a@example.com;b@example.com", false},
		{"a b@example.com", false},
		{" a@example.com", false},
		{"a@example.com ", false},
		{"a@example.com\r\nBcc: x@example.com", false},
		{"a@exa mple.com", false},
		{`"a b"@example.com`, false},
		{"a\t@example.com", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.addr), func(t *testing.T) {
			assert.Equal(t, tt.want, mail.ValidAddress(tt.addr))
		})
	}
}

func TestNormalize(t *testing.T) {
	assert.Equal(t, "ann@example.com", mail.Normalize("  Ann@Example.COM\t"))
}

var date = time.Date(2024, 3, 5, 14, 30, 0, 0, time.FixedZone("CET", 3600))

func message() mail.Message {
	return mail.Message{
		Key:     "INC-20240305-7F3A/notices/ab12",
		From:    "privacy@example-shop.test",
		To:      "lea.weber@example.net",
		Subject: "Sicherheitsvorfall bei Müller & Söhne – wichtig",
		Text: "Dear Léa,\n\n" +
			"This line is long enough that quoted-printable has to wrap it with a soft line break, because it is longer than seventy-six characters.\n" +
			"Trailing space \n" +
			"=equals= and tab\tinside\r\n" +
			"Ende.",
		Headers: map[string]string{"X-Breach-Incident": "INC-20240305-7F3A", "X-Note": "für Sie"},
		Date:    date,
	}
}

func TestRenderIsAParseableRFC5322Message(t *testing.T) {
	m := message()
	raw, err := mail.Render(m)
	require.NoError(t, err)

	for i, line := range strings.Split(string(raw), "\r\n") {
		assert.NotContains(t, line, "\n", "line %d ends with a bare LF", i+1)
		assert.LessOrEqual(t, len(line), 998, "line %d", i+1)
		for _, b := range []byte(line) {
			require.Less(t, b, byte(0x80), "line %d is not 7-bit: %q", i+1, line)
		}
	}

	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	h := msg.Header
	assert.Equal(t, m.From, h.Get("From"))
	assert.Equal(t, m.To, h.Get("To"))
	got, err := h.Date()
	require.NoError(t, err)
	assert.True(t, got.Equal(date), "Date %v, want %v", got, date)
	assert.Equal(t, "<INC-20240305-7F3A/notices/ab12@breach.local>", h.Get("Message-Id"))
	assert.Equal(t, "1.0", h.Get("Mime-Version"))
	assert.Equal(t, `text/plain; charset="utf-8"`, h.Get("Content-Type"))
	assert.Equal(t, "quoted-printable", h.Get("Content-Transfer-Encoding"))
	assert.Equal(t, "INC-20240305-7F3A", h.Get("X-Breach-Incident"))

	assert.True(t, strings.HasPrefix(h.Get("Subject"), "=?utf-8?q?"), "subject %q is not an encoded word", h.Get("Subject"))
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, m.Subject, subject)
	note, err := dec.DecodeHeader(h.Get("X-Note"))
	require.NoError(t, err)
	assert.Equal(t, "für Sie", note)

	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	want := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	assert.Equal(t, want, string(body))
}

func TestRenderASCIISubjectStaysReadable(t *testing.T) {
	m := message()
	m.Subject = "Important: a security incident"
	raw, err := mail.Render(m)
	require.NoError(t, err)
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, m.Subject, msg.Header.Get("Subject"))
}

func TestRenderHeaderValuesCannotInjectHeaders(t *testing.T) {
	m := message()
	m.Subject = "Hello\r\nBcc: everyone@example.com"
	m.Headers = map[string]string{"X-Breach-Incident": "INC-1\r\nBcc: more@example.com"}
	raw, err := mail.Render(m)
	require.NoError(t, err)
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Empty(t, msg.Header.Get("Bcc"))
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, m.Subject, subject)
}

func TestRenderZeroDateUsesNow(t *testing.T) {
	m := message()
	m.Date = time.Time{}
	before := time.Now().Truncate(time.Second)
	raw, err := mail.Render(m)
	require.NoError(t, err)
	after := time.Now()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	got, err := msg.Header.Date()
	require.NoError(t, err)
	assert.False(t, got.Before(before) || got.After(after), "Date %v not between %v and %v", got, before, after)
}

func TestRenderRejectsInvalidAddresses(t *testing.T) {
	m := message()
	m.From = "Privacy <privacy@example-shop.test>"
	_, err := mail.Render(m)
	require.ErrorIs(t, err, mail.ErrInvalidAddress)
	assert.Contains(t, err.Error(), "sender")
	assert.Contains(t, err.Error(), m.Key)

	m = message()
	m.To = "lea.weber@"
	_, err = mail.Render(m)
	require.ErrorIs(t, err, mail.ErrInvalidAddress)
	assert.Contains(t, err.Error(), "recipient")
}

// files lists the regular files under dir, relative and slash-separated.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return out
}

func TestOutboxSendWritesOnceByKey(t *testing.T) {
	dir := t.TempDir()
	box := mail.Outbox{Dir: dir}
	m := message()

	rc, err := box.Send(context.Background(), m)
	require.NoError(t, err)
	path := filepath.Join(dir, "INC-20240305-7F3A", "notices", "ab12.eml")
	assert.Equal(t, mail.Receipt{ID: path}, rc)
	want, err := mail.Render(m)
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	again := m
	again.Text = "A different text must not replace the one already sent."
	rc, err = box.Send(context.Background(), again)
	require.NoError(t, err)
	assert.Equal(t, mail.Receipt{ID: path, Duplicate: true}, rc)
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	assert.Equal(t, []string{"INC-20240305-7F3A/notices/ab12.eml"}, files(t, dir))
}

func TestOutboxRejectsKeysOutsideItsDirectory(t *testing.T) {
	keys := []string{
		"",
		"..",
		"../escape",
		"INC-20240305-7F3A/../../escape",
		"INC-20240305-7F3A/..",
		"INC-20240305-7F3A//a",
		"/etc/passwd",
		"INC-20240305-7F3A/",
		".hidden",
		"INC-20240305-7F3A/.a",
		"INC-20240305-7F3A/./a",
		`INC-20240305-7F3A\..\a`,
		"INC-20240305-7F3A/a\x00b",
		"INC-1/notices/ab12",     // not an incident ID
		"../INC-20240305-7F3A/a", // an ID further down
		"notices/INC-20240305-7F3A",
	}
	for _, key := range keys {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			root := t.TempDir()
			box := mail.Outbox{Dir: filepath.Join(root, "outbox")}
			m := message()
			m.Key = key
			_, err := box.Send(context.Background(), m)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "key")
			assert.Empty(t, files(t, root))
		})
	}
}

func TestOutboxSendInvalidRecipientWritesNothing(t *testing.T) {
	dir := t.TempDir()
	m := message()
	m.To = "not an address"
	_, err := mail.Outbox{Dir: dir}.Send(context.Background(), m)
	require.ErrorIs(t, err, mail.ErrInvalidAddress)
	assert.Empty(t, files(t, dir))
}

func TestOutboxConcurrentSendsOfOneKeyWriteOnce(t *testing.T) {
	dir := t.TempDir()
	box := mail.Outbox{Dir: dir}
	const senders = 20
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		receipts [senders]mail.Receipt
		errs     [senders]error
		texts    [senders]string
	)
	for i := range senders {
		texts[i] = fmt.Sprintf("attempt %d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := message()
			m.Text = texts[i]
			<-start
			receipts[i], errs[i] = box.Send(context.Background(), m)
		}()
	}
	close(start)
	wg.Wait()

	path := filepath.Join(dir, "INC-20240305-7F3A", "notices", "ab12.eml")
	var winners []int
	for i := range senders {
		require.NoError(t, errs[i], "sender %d", i)
		assert.Equal(t, path, receipts[i].ID)
		if !receipts[i].Duplicate {
			winners = append(winners, i)
		}
	}
	require.Len(t, winners, 1, "exactly one sender reports the message written")
	assert.Equal(t, []string{"INC-20240305-7F3A/notices/ab12.eml"}, files(t, dir), "one file, no temporary files left")

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	assert.Equal(t, texts[winners[0]], string(body), "the file holds the message of the sender told it was written")
}

// A symbolic link inside the outbox cannot carry a message out of it: files are created under
// the outbox directory as a root.
func TestOutboxDoesNotFollowLinksOutOfItsDirectory(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "elsewhere")
	require.NoError(t, os.MkdirAll(outside, 0o750))
	box := mail.Outbox{Dir: filepath.Join(root, "outbox")}
	require.NoError(t, os.MkdirAll(filepath.Join(box.Dir, "INC-20240305-7F3A"), 0o750))
	require.NoError(t, os.Symlink(outside, filepath.Join(box.Dir, "INC-20240305-7F3A", "notices")))

	_, err := box.Send(context.Background(), message())
	require.Error(t, err)
	assert.Empty(t, files(t, outside), "nothing is written through the link")
}

func TestOutboxHolds(t *testing.T) {
	box := mail.Outbox{Dir: t.TempDir()}
	assert.False(t, box.Holds("INC-20240305-7F3A/notices"), "an empty outbox")
	_, err := box.Send(context.Background(), message())
	require.NoError(t, err)
	assert.True(t, box.Holds("INC-20240305-7F3A/notices"))
	assert.True(t, box.Holds("INC-20240305-7F3A"))
	assert.False(t, box.Holds("INC-20240305-7F3B/notices"), "another incident")
	assert.False(t, box.Holds("INC-20240305-7F3A/authority"))
	assert.False(t, box.Holds("../x"))
}

// The outbox of a shared store delivers a key once, whichever worker writes it, and says where
// the message is; a key that is not an incident's is refused before anything is written.
func TestStoreOutbox(t *testing.T) {
	ctx := context.Background()
	st := storetest.Store(t, "outbox")
	a, b := mail.StoreOutbox{Store: st}, mail.StoreOutbox{Store: st}
	m := mail.Message{Key: "INC-20261128-7F3A/notices/ab12", From: "privacy@shop.example", To: "person@example.net", Subject: "About your data", Text: "text"}
	require.False(t, a.Holds("INC-20261128-7F3A/notices"))
	first, err := a.Send(ctx, m)
	require.NoError(t, err)
	require.False(t, first.Duplicate)
	require.Contains(t, first.ID, "outbox/INC-20261128-7F3A/notices/ab12.eml")
	again, err := b.Send(ctx, m)
	require.NoError(t, err)
	require.True(t, again.Duplicate, "a second worker sending the same key delivers nothing new")
	require.True(t, b.Holds("INC-20261128-7F3A/notices"))
	require.False(t, b.Holds("INC-20261128-7F3A/authority"))
	keys, err := st.List(ctx, "outbox/")
	require.NoError(t, err)
	require.Equal(t, []string{"outbox/INC-20261128-7F3A/notices/ab12.eml"}, keys)
	_, err = a.Send(ctx, mail.Message{Key: "../x", To: "person@example.net"})
	require.Error(t, err)
}
