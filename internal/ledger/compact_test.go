package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeSubject(t *testing.T) {
	seen := map[string]string{}
	for _, k := range []string{
		"0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF", "s-00001",
		"fifteen-chars!!", "sixteen-chars!!!", "x", strings.Repeat("k", 300),
	} {
		e := string(encodeSubject(k))
		if got := decodeSubject([]byte(e)); got != k {
			t.Errorf("decode(encode(%q)) = %q", k, got)
		}
		if other, ok := seen[e]; ok {
			t.Errorf("%q and %q encode alike", k, other)
		}
		seen[e] = k
	}
	keys := []string{"0123456789abcdef0123456789abcdef", "a", strings.Repeat("k", 300)}
	split, err := splitSubjects(string(encodeSubjects(keys)))
	must(t, err)
	for i, e := range split {
		if decodeSubject([]byte(e)) != keys[i] {
			t.Errorf("split %d = %q", i, e)
		}
	}
}

// account reads the subjects' counts and the possibly duplicated, without folding.
func account(t *testing.T, l *Ledger) (map[Outcome]int, []string) {
	t.Helper()
	c, pd, err := l.Account(context.Background(), inc)
	must(t, err)
	return c, pd
}

// TestRecordsFold: outcomes written as records are counted alike before and after they are
// folded for a lookup, whatever the order of later outcomes.
func TestRecordsFold(t *testing.T) {
	ctx := context.Background()
	defer func(n int) { foldRecords = n }(foldRecords)
	foldRecords = 2 // several groups
	forEachBackend(t, func(t *testing.T, l *Ledger, _ string) {
		key := func(i int) string { return fmt.Sprintf("%032x", i*7919) }
		var outs []SubjectOutcome
		for i := range 2500 {
			outs = append(outs, SubjectOutcome{SubjectKey: key(i), BatchKey: fmt.Sprintf("b-%d", i/1000), Outcome: Sent})
		}
		must(t, l.RecordAccepted(ctx, inc, "b-0", "m0", outs[:1000]))
		must(t, l.RecordOutcomes(ctx, inc, outs[1000:]))
		must(t, l.RecordOutcomes(ctx, inc, outs[10:20])) // repeat
		// Later outcomes: rejected over sent, possibly duplicated sticks.
		must(t, l.RecordOutcomes(ctx, inc, []SubjectOutcome{
			{SubjectKey: key(1), BatchKey: "b-0", Outcome: Rejected},
			{SubjectKey: key(2), BatchKey: "b-0", Outcome: PossiblyDuplicated},
			{SubjectKey: "id-7", Outcome: InvalidAddress},
		}))
		must(t, l.RecordOutcomes(ctx, inc, []SubjectOutcome{{SubjectKey: key(2), BatchKey: "b-1", Outcome: Sent}}))
		want := map[Outcome]int{Sent: 2498, Rejected: 1, PossiblyDuplicated: 1, InvalidAddress: 1, Duplicate: 0}
		wantPD := []string{key(2)}
		check := func(when string) {
			t.Helper()
			c, pd := account(t, l)
			if !reflect.DeepEqual(c, want) || !reflect.DeepEqual(pd, wantPD) {
				t.Errorf("%s: %v %v, want %v %v", when, c, pd, want, wantPD)
			}
		}
		check("records only")
		if b := getBatch(t, l, inc, "b-0"); b.State != Accepted || b.MessageID != "m0" {
			t.Errorf("b-0: %+v", b)
		}
		o, err := l.Subject(ctx, inc, key(2)) // folds
		must(t, err)
		if o.Outcome != PossiblyDuplicated || o.BatchKey != "b-0" {
			t.Errorf("subject 2: %+v", o)
		}
		check("folded")
		// More records over the folded rows.
		must(t, l.RecordOutcomes(ctx, inc, []SubjectOutcome{
			{SubjectKey: key(1), BatchKey: "b-2", Outcome: Sent},
			{SubjectKey: key(2), BatchKey: "b-2", Outcome: Rejected},
			{SubjectKey: key(3), BatchKey: "b-2", Outcome: Rejected},
			{SubjectKey: key(4), BatchKey: "b-2", Outcome: PossiblyDuplicated},
			{SubjectKey: key(9999), BatchKey: "b-2", Outcome: Sent},
		}))
		want = map[Outcome]int{Sent: 2498 + 1 - 1 - 1, Rejected: 1, PossiblyDuplicated: 2, InvalidAddress: 1, Duplicate: 0}
		want[Sent]++ // key(9999) is new
		wantPD = []string{key(2), key(4)}
		if key(4) < key(2) {
			wantPD = []string{key(4), key(2)}
		}
		check("records over folded rows")
		for i, w := range map[int]SubjectOutcome{1: {BatchKey: "b-2", Outcome: Sent}, 3: {BatchKey: "b-2", Outcome: Rejected},
			9999: {BatchKey: "b-2", Outcome: Sent}, 500: {BatchKey: "b-0", Outcome: Sent}} {
			o, err := l.Subject(ctx, inc, key(i))
			must(t, err)
			if w.SubjectKey = key(i); o != w {
				t.Errorf("subject %d: %+v, want %+v", i, o, w)
			}
		}
		check("folded again")
		// In bulk, alike, across lookup chunks.
		var keys []string
		for i := range 1200 {
			keys = append(keys, key(i))
		}
		keys = append(keys, key(9999), key(100000), "id-7")
		got, err := l.Subjects(ctx, inc, keys)
		must(t, err)
		if len(got) != len(keys)-1 {
			t.Errorf("Subjects found %d of %d", len(got), len(keys))
		}
		for _, k := range keys {
			o, err := l.Subject(ctx, inc, k)
			if g, ok := got[k]; ok != (err == nil) || (ok && g != o) {
				t.Errorf("subject %s: Subjects %+v %v, Subject %+v %v", k, g, ok, o, err)
			}
		}
		if _, err := l.Subject(ctx, inc, key(100000)); err == nil {
			t.Error("a subject never recorded was found")
		}
	})
}

// TestLegacyLedger: a ledger written before the compact tables opens, and an incident with
// outcomes there keeps them and records there.
func TestLegacyLedger(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "ledger.db")
	l := openLedger(t, dsn)
	// Back to schema 1, as an older breach left it.
	for _, stmt := range []string{`DROP TABLE notify_refs`, `DROP TABLE notify_outcomes`, `DROP TABLE notify_records`,
		`DELETE FROM ledger_schema WHERE version > 1`} {
		if _, err := l.db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for i, o := range []Outcome{Sent, PossiblyDuplicated, Rejected} {
		if _, err := l.db.Exec(`INSERT INTO notify_subjects (incident_id, subject_key, batch_key, outcome, updated_at)
			VALUES (?, ?, 'b-old', ?, '2026-11-01T00:00:00.000000Z')`, inc, fmt.Sprintf("%032x", i), string(o)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l = openLedger(t, dsn)
	must(t, l.RecordOutcomes(ctx, inc, []SubjectOutcome{
		{SubjectKey: fmt.Sprintf("%032x", 1), BatchKey: "b-new", Outcome: Sent}, // stays possibly duplicated
		{SubjectKey: fmt.Sprintf("%032x", 3), BatchKey: "b-new", Outcome: Sent},
	}))
	must(t, l.RecordOutcomes(ctx, "INC-NEW", []SubjectOutcome{{SubjectKey: fmt.Sprintf("%032x", 1), BatchKey: "b", Outcome: Sent}}))
	for i, want := range []Outcome{Sent, PossiblyDuplicated, Rejected, Sent} {
		o, err := l.Subject(ctx, inc, fmt.Sprintf("%032x", i))
		must(t, err)
		if o.Outcome != want {
			t.Errorf("subject %d: %s, want %s", i, o.Outcome, want)
		}
	}
	keys := []string{fmt.Sprintf("%032x", 0), fmt.Sprintf("%032x", 1), fmt.Sprintf("%032x", 3), fmt.Sprintf("%032x", 4)}
	got, err := l.Subjects(ctx, inc, keys)
	must(t, err)
	if len(got) != 3 || got[keys[1]].Outcome != PossiblyDuplicated || got[keys[2]].BatchKey != "b-new" {
		t.Errorf("Subjects: %+v", got)
	}
	c, pd := account(t, l)
	if want := (map[Outcome]int{Sent: 2, PossiblyDuplicated: 1, Rejected: 1, InvalidAddress: 0, Duplicate: 0}); !reflect.DeepEqual(c, want) {
		t.Errorf("counts %v, want %v", c, want)
	}
	if !reflect.DeepEqual(pd, []string{fmt.Sprintf("%032x", 1)}) {
		t.Errorf("possibly duplicated %v", pd)
	}
	var legacy, compact int
	must(t, l.db.QueryRow(`SELECT COUNT(*) FROM notify_subjects`).Scan(&legacy))
	must(t, l.db.QueryRow(`SELECT (SELECT COUNT(*) FROM notify_records) + (SELECT COUNT(*) FROM notify_outcomes)`).Scan(&compact))
	if legacy != 4 || compact != 1 {
		t.Errorf("%d legacy rows, %d compact: want the old incident in the old table", legacy, compact)
	}
}
