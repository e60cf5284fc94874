// Package records is where an incident's records live in the installation's store
// (internal/store), and how they are read back: the reports, what closing writes (the
// post-incident report, the timeline, the register entry), the containment evidence, and what
// one activity leaves for another (the duplicate rows of a scope, the people who may have two
// notices, the pseudonym scheme of the notices). Every worker and the board open the same
// store, so none of this is on one worker's disk.
//
// With the default store (BREACH_HOME) the keys are the files a person finds there:
// incidents/<id>/reports/<obligation>.md, incidents/<id>/timeline.md, register/<id>.json…
package records

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/store"
)

// The records closing writes, by name under the incident's key.
const (
	PostIncidentReport = "post-incident-report.md"
	Timeline           = "timeline.md"
	// EvidenceLog names the containment evidence as one document: its records, one JSON line
	// each, oldest first (what the board serves and the register hashes).
	EvidenceLog = "containment-evidence.jsonl"
)

// Key is incidents/<id>/<elems…>, or an error when id is not an incident ID or an element is
// not a plain name (no "..", nothing empty or dot-led).
func Key(id string, elems ...string) (string, error) {
	if err := incident.ValidateID(id); err != nil {
		return "", err
	}
	key := "incidents/" + id
	if len(elems) > 0 {
		key += "/" + strings.Join(elems, "/")
	}
	if err := store.CheckKey(key); err != nil {
		return "", err
	}
	return key, nil
}

// ReportKey is the key of a report of the incident: name is one plain file name.
func ReportKey(id, name string) (string, error) {
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("report of %s: %q is not a plain file name", id, name)
	}
	return Key(id, "reports", name)
}

// ReportsPrefix lists the incident's reports.
func ReportsPrefix(id string) (string, error) {
	k, err := Key(id, "reports")
	return k + "/", err
}

// RegisterEntryKey is the register entry closing writes for the incident: register/<id>.json.
func RegisterEntryKey(id string) (string, error) {
	if err := incident.ValidateID(id); err != nil {
		return "", err
	}
	return "register/" + id + ".json", nil
}

// RegisterEntriesPrefix lists every register entry closing wrote.
const RegisterEntriesPrefix = "register/"

// DuplicatesKey lists, one per line, the data rows of the dataset sha (its SHA-256) that repeat
// an earlier subject, as the scope found them.
func DuplicatesKey(id, sha string) (string, error) {
	if len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
		return "", fmt.Errorf("dataset of %s: %q is not the SHA-256 of a scope; re-run the scope phase", id, sha)
	}
	return Key(id, "scope", sha+".duplicates")
}

// PossiblyDuplicatedKey lists the people who may have received a notice twice.
func PossiblyDuplicatedKey(id string) (string, error) {
	return Key(id, "alerts", "possibly-duplicated.csv")
}

// PseudonymSchemeKey holds the pseudonym scheme the incident's notices are keyed by: the first
// worker to send records it, every other follows it.
func PseudonymSchemeKey(id string) (string, error) {
	return Key(id, "alerts", "pseudonym-scheme")
}

// EvidencePrefix is where the incident's containment evidence is kept, one record per firewall
// call (before the store, it was one file, EvidenceLog, which is still read).
func EvidencePrefix(id string) (string, error) {
	k, err := Key(id, "evidence")
	return k + "/", err
}

// AddEvidence keeps one record of a firewall call. Its key is its time and content, so a retried
// activity adding the same record keeps it once, and two workers never write the same key.
func AddEvidence(ctx context.Context, st *store.Store, id string, ev incident.Evidence) error {
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	prefix, err := EvidencePrefix(id)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(line)
	key := prefix + ev.At.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(sum[:8]) + ".json"
	if err := st.Create(ctx, key, line); err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("record evidence: %w", err)
	}
	return nil
}

// EvidenceLogOf is the incident's containment evidence as one document (EvidenceLog), or nil
// when there is none.
func EvidenceLogOf(ctx context.Context, st *store.Store, id string) ([]byte, error) {
	var out []byte
	legacy, err := Key(id, EvidenceLog)
	if err != nil {
		return nil, err
	}
	switch data, err := st.Get(ctx, legacy); {
	case err == nil:
		out = append(out, data...)
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	prefix, err := EvidencePrefix(id)
	if err != nil {
		return nil, err
	}
	keys, err := st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	sort.Strings(keys)
	for _, k := range keys {
		data, err := st.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, strings.TrimSpace(string(data))...)
		out = append(out, '\n')
	}
	return out, nil
}

// Evidence is the incident's containment evidence, oldest first; a record that does not parse
// is left out.
func Evidence(ctx context.Context, st *store.Store, id string) ([]incident.Evidence, error) {
	data, err := EvidenceLogOf(ctx, st, id)
	if err != nil {
		return nil, err
	}
	var out []incident.Evidence
	for _, line := range strings.Split(string(data), "\n") {
		var ev incident.Evidence
		if line != "" && json.Unmarshal([]byte(line), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out, nil
}
