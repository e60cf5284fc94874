package register

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
)

// Entry is one version of one incident's entry. Entries are numbered across the whole register
// (Seq, from 1, without gaps) and per incident (Version, from 1); each names the SHA-256 of the
// entry before it in the register (Prev) and of the incident's version before it
// (PrevVersion), so that changing or removing any of them breaks a link Verify follows.
type Entry struct {
	Seq        int64     `json:"seq"`
	IncidentID string    `json:"incident_id"`
	Version    int       `json:"version"`
	RecordedAt time.Time `json:"recorded_at"`
	// Change says what made this version: what the incident recorded, or a correction.
	Change string `json:"change"`
	// Content is what the incident recorded; Corrections are every correction made so far, in
	// order, carried into later versions: Effective applies them.
	Content     Content      `json:"content"`
	Corrections []Correction `json:"corrections,omitempty"`
	Prev        string       `json:"prev"`
	PrevVersion string       `json:"prev_version,omitempty"`

	// Hash is the SHA-256 of the entry as stored (every field above); it is kept beside the
	// entry, not in it.
	Hash string `json:"-"`
}

// Correction replaces one field of the register's text, made by a person with a reason. The
// versions before it keep the old text.
type Correction struct {
	// Version is the version the correction made.
	Version int       `json:"version"`
	Field   string    `json:"field"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	// Signature is By's signature of the correction, when they signed it.
	Signature *incident.Signature `json:"signature,omitempty"`
}

// Correctable lists the fields a correction can replace, with what each holds. Facts the
// incident computed (counts, obligations, times) are corrected in the incident itself (breach
// amend), which records a new version.
var Correctable = map[string]string{
	"title":         "the incident's title",
	"description":   "the facts: what happened",
	"consequences":  "the effects: the likely consequences (Art. 33(3)(c))",
	"measures":      "the remedial action: measures taken or proposed (Art. 33(3)(d))",
	"reasoning":     "the reasoning of the DPO's decision",
	"close_summary": "the summary given at the close",
}

// CorrectableFields lists the names of Correctable in order.
func CorrectableFields() []string {
	out := make([]string, 0, len(Correctable))
	for k := range Correctable {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// field returns a pointer to the correctable field name of c, or an error.
func fieldOf(c *Content, name string) (*string, error) {
	switch name {
	case "title":
		return &c.Title, nil
	case "description":
		return &c.Description, nil
	case "consequences":
		return &c.Consequences, nil
	case "measures":
		return &c.Measures, nil
	case "close_summary":
		return &c.CloseSummary, nil
	case "reasoning":
		if c.Decision == nil {
			return nil, errors.New("the incident has no decision yet, so no reasoning to correct")
		}
		return &c.Decision.Reasoning, nil
	}
	return nil, fmt.Errorf("%q cannot be corrected; correctable fields: %s", name, strings.Join(CorrectableFields(), ", "))
}

// Effective is the content with every correction applied: what the register says now.
func (e Entry) Effective() Content {
	c := e.Content
	if c.Decision != nil {
		d := *c.Decision
		c.Decision = &d
	}
	for _, k := range e.Corrections {
		if p, err := fieldOf(&c, k.Field); err == nil {
			*p = k.To
		}
	}
	return c
}

// seal encodes e as it is stored and sets its hash.
func seal(e *Entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode register entry %s version %d: %w", e.IncidentID, e.Version, err)
	}
	e.Hash = hashOf(body)
	return body, nil
}

func hashOf(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// parseEntry reads a stored entry. Unknown fields are an error: a field added by hand is a
// change of the entry, whatever its hash says.
func parseEntry(body []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, err
	}
	if dec.More() {
		return Entry{}, errors.New("text after the entry")
	}
	return e, nil
}

// sameContent reports whether two contents encode alike.
func sameContent(a, b Content) bool {
	x, err1 := json.Marshal(normalise(a))
	y, err2 := json.Marshal(normalise(b))
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
