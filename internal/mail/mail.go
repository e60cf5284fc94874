// Package mail holds the message model shared by the email adapters and the local outbox
// adapter, which writes each message as an RFC 5322 .eml file.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
)

// Message is one email. Key is an idempotency key: sending two messages with the same key
// delivers one.
type Message struct {
	Key     string            `json:"key"`
	From    string            `json:"from"`
	To      string            `json:"to"`
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	Headers map[string]string `json:"headers,omitempty"`
	Date    time.Time         `json:"date"`
}

// ErrInvalidAddress reports a recipient or sender that is not a valid address.
var ErrInvalidAddress = errors.New("invalid email address")

// ValidAddress reports whether s is a single bare address such as "a@example.com".
func ValidAddress(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// Normalize returns the canonical form of an address used to detect duplicates.
func Normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Render writes m as an RFC 5322 message with a quoted-printable UTF-8 body.
func Render(m Message) ([]byte, error) {
	if !ValidAddress(m.From) {
		return nil, fmt.Errorf("render message %s: sender: %w", m.Key, ErrInvalidAddress)
	}
	if !ValidAddress(m.To) {
		return nil, fmt.Errorf("render message %s: recipient: %w", m.Key, ErrInvalidAddress)
	}
	var b bytes.Buffer
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", m.From)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+sanitizeID(m.Key)+"@breach.local>")
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		header(k, mime.QEncoding.Encode("utf-8", m.Headers[k]))
	}
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func sanitizeID(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || r == '<' || r == '>' || r == '@' {
			return '-'
		}
		return r
	}, s)
}

// Outbox is the local email adapter: every message becomes a file <dir>/<key>.eml, written
// atomically, so a message is either wholly there or not at all, and a key is delivered once.
type Outbox struct {
	Dir string
}

// Receipt is what a mail adapter returns for one accepted message.
type Receipt struct {
	// ID is the provider's message id (for the outbox, the file's path).
	ID string `json:"id"`
	// Duplicate is set when a message with the same key had been sent before.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Send writes m unless a message with the same key is already in the outbox.
func (o Outbox) Send(ctx context.Context, m Message) (Receipt, error) {
	written, path, err := o.write(m)
	return Receipt{ID: path, Duplicate: !written && err == nil}, err
}

func (o Outbox) write(m Message) (written bool, path string, err error) {
	if err := checkKey(m.Key); err != nil {
		return false, "", err
	}
	raw, err := Render(m)
	if err != nil {
		return false, "", err
	}
	rel := filepath.FromSlash(m.Key) + ".eml"
	path = filepath.Join(o.Dir, rel)
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return false, "", fmt.Errorf("outbox: create %s: %w", o.Dir, err)
	}
	// Everything below happens under the outbox directory (os.Root): no key, and no symbolic
	// link inside it, can make a message land elsewhere.
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return false, "", fmt.Errorf("outbox: %w", err)
	}
	defer root.Close()
	if _, err := root.Stat(rel); err == nil {
		return false, path, nil
	}
	dir := filepath.Dir(rel)
	if err := root.MkdirAll(dir, 0o750); err != nil {
		return false, "", fmt.Errorf("outbox: create %s: %w", filepath.Join(o.Dir, dir), err)
	}
	tmp := filepath.Join(dir, ".tmp-"+rand.Text())
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return false, "", fmt.Errorf("outbox: %w", err)
	}
	_, werr := f.Write(raw)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		root.Remove(tmp)
		return false, "", fmt.Errorf("outbox: write %s: %w", path, werr)
	}
	// Link fails if the key was written meanwhile, so two racing senders still deliver once.
	if err := root.Link(tmp, rel); err != nil {
		root.Remove(tmp)
		if errors.Is(err, os.ErrExist) {
			return false, path, nil
		}
		return false, "", fmt.Errorf("outbox: publish %s: %w", path, err)
	}
	root.Remove(tmp)
	return true, path, nil
}

// Holds reports whether the outbox holds a message whose key starts with prefix + "/" (e.g.
// "INC-20261128-7F3A/notices"). A prefix that is not a key's beginning holds nothing.
func (o Outbox) Holds(prefix string) bool {
	if checkKey(prefix) != nil {
		return false
	}
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return false
	}
	defer root.Close()
	d, err := root.Open(filepath.FromSlash(prefix))
	if err != nil {
		return false
	}
	defer d.Close()
	names, _ := d.Readdirnames(0)
	for _, n := range names {
		if !strings.HasPrefix(n, ".") {
			return true
		}
	}
	return false
}

// checkKey accepts keys made of slash-separated file names, the first an incident ID, e.g.
// "INC-20261128-7F3A/notices/ab12".
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("outbox: message key is empty")
	}
	first, _, _ := strings.Cut(key, "/")
	if err := incident.ValidateID(first); err != nil {
		return fmt.Errorf("outbox: message key %q must start with the incident ID: %v", key, err)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") || strings.ContainsAny(seg, "\\\x00") {
			return fmt.Errorf("outbox: message key %q: each /-separated part must be a plain file name", key)
		}
	}
	return nil
}
