package register

import (
	"context"
	"fmt"
)

// Problem is one thing Verify found wrong, with where it is.
type Problem struct {
	// Seq, IncidentID and Version name the entry, when known.
	Seq        int64  `json:"seq,omitempty"`
	IncidentID string `json:"incident_id,omitempty"`
	Version    int    `json:"version,omitempty"`
	// Where is the file or table row.
	Where string `json:"where"`
	What  string `json:"what"`
}

func (p Problem) String() string {
	name := p.Where
	if p.IncidentID != "" {
		name = fmt.Sprintf("entry %d (%s version %d) at %s", p.Seq, p.IncidentID, p.Version, p.Where)
	}
	return name + ": " + p.What
}

// Report is what Verify found.
type Report struct {
	Where     string `json:"where"`
	Entries   int    `json:"entries"`
	Incidents int    `json:"incidents"`
	// Head is the SHA-256 of the last entry: noted elsewhere (an audit file, a ticket), it shows
	// later that no entry was removed from the end.
	Head     string    `json:"head"`
	HeadSeq  int64     `json:"head_seq"`
	Problems []Problem `json:"problems"`
}

// OK reports whether the register is intact.
func (r Report) OK() bool { return len(r.Problems) == 0 }

type incidentLink struct {
	version int
	hash    string
}

// Verify walks the whole register: each entry must hash to the SHA-256 kept beside it, follow
// the entry before it (Prev), follow its incident's previous version (PrevVersion), and be
// numbered without a gap; the head must name the last entry. expectHead, when given, is a head
// SHA-256 noted earlier, which must still be in the register.
func (r *Register) Verify(ctx context.Context, expectHead string) (Report, error) {
	raw, problems, err := r.b.scan(ctx, "")
	if err != nil {
		return Report{}, err
	}
	rep := Report{Where: r.Where(), Problems: problems}
	incidents := map[string]incidentLink{}
	var prev *stored
	seen := map[string]bool{}
	bySeq := map[int64]*stored{}
	for i := range raw {
		s := &raw[i]
		rep.Problems = append(rep.Problems, checkEntry(s, prev, incidents)...)
		seen[s.Hash] = true
		bySeq[s.Seq] = s
		prev = s
	}
	rep.Entries, rep.Incidents = len(raw), len(incidents)
	if prev != nil {
		rep.Head, rep.HeadSeq = prev.Hash, prev.Seq
	}
	h, err := r.b.head(ctx)
	if err != nil {
		return Report{}, err
	}
	rep.Problems = append(rep.Problems, checkHead(h, prev, bySeq, r.Where())...)
	if expectHead != "" && !seen[expectHead] {
		rep.Problems = append(rep.Problems, Problem{Where: r.Where(),
			What: fmt.Sprintf("no entry has the SHA-256 %s noted earlier as the head: entries were removed or changed since", expectHead)})
	}
	return rep, nil
}

// checkEntry checks one stored entry against the one before it and its incident's chain.
func checkEntry(s, prev *stored, incidents map[string]incidentLink) []Problem {
	var out []Problem
	bad := func(format string, args ...any) {
		out = append(out, Problem{Seq: s.Seq, IncidentID: s.IncidentID, Version: s.Version, Where: s.Where, What: fmt.Sprintf(format, args...)})
	}
	want := int64(1)
	if prev != nil {
		want = prev.Seq + 1
	}
	switch {
	case s.Seq > want && want == s.Seq-1:
		bad("entry %d is missing before it: it was deleted", want)
	case s.Seq > want:
		bad("entries %d to %d are missing before it: they were deleted", want, s.Seq-1)
	case s.Seq < want:
		bad("it repeats entry number %d", s.Seq)
	}
	if got := hashOf(s.Body); got != s.Hash {
		bad("it was changed: its content hashes to %s, not to the SHA-256 %s recorded when it was written", got, s.Hash)
	}
	e, err := parseEntry(s.Body)
	if err != nil {
		bad("it is not a register entry any more (%v): it was changed", err)
		return out
	}
	if e.Seq != s.Seq || e.IncidentID != s.IncidentID || e.Version != s.Version {
		bad("it says it is entry %d (%s version %d): it was renamed or moved", e.Seq, e.IncidentID, e.Version)
	}
	switch {
	case prev == nil && e.Prev != "":
		bad("it names a predecessor (%s), but no entry comes before it: the entries before it were deleted", e.Prev)
	case prev != nil && e.Prev != prev.Hash:
		// The entry before was changed and its hash made to match, or replaced: name it.
		out = append(out, Problem{Seq: prev.Seq, IncidentID: prev.IncidentID, Version: prev.Version, Where: prev.Where,
			What: fmt.Sprintf("it was changed or replaced: it has the SHA-256 %s, but entry %d (%s), written after it, recorded %s", prev.Hash, s.Seq, s.Where, e.Prev)})
	}
	l := incidents[s.IncidentID]
	switch {
	case e.Version > l.version+1:
		bad("the incident's versions %d to %d are missing before it: they were deleted", l.version+1, e.Version-1)
	case e.Version <= l.version:
		bad("it repeats version %d of the incident", e.Version)
	case e.PrevVersion != l.hash:
		bad("it records the SHA-256 of the incident's previous version as %q, but that version has %q: it was changed or replaced", e.PrevVersion, l.hash)
	}
	incidents[s.IncidentID] = incidentLink{version: max(e.Version, l.version), hash: s.Hash}
	return out
}

// checkHead compares the recorded head with the last entry.
func checkHead(h *head, last *stored, bySeq map[int64]*stored, where string) []Problem {
	switch {
	case h == nil && last == nil:
		return nil
	case h == nil:
		return []Problem{{Where: where, What: "the register has entries but no head record: the head was deleted"}}
	case h.Seq < 0:
		return []Problem{{Where: where, What: "the register's head record cannot be read: it was changed"}}
	case last == nil:
		return []Problem{{Where: where, What: fmt.Sprintf("the register's head names entry %d, but there is no entry: every entry was deleted", h.Seq)}}
	case h.Seq > last.Seq:
		return []Problem{{Where: where, What: fmt.Sprintf("the register's head names entry %d, but the last entry is %d: the newest entries were deleted", h.Seq, last.Seq)}}
	case h.Seq == last.Seq && h.Hash != last.Hash:
		return []Problem{{Seq: last.Seq, IncidentID: last.IncidentID, Version: last.Version, Where: last.Where,
			What: fmt.Sprintf("the register's head records its SHA-256 as %s, but it has %s: the last entry was changed or replaced", h.Hash, last.Hash)}}
	}
	if s := bySeq[h.Seq]; s != nil && s.Hash != h.Hash {
		return []Problem{{Seq: s.Seq, IncidentID: s.IncidentID, Version: s.Version, Where: s.Where,
			What: fmt.Sprintf("the register's head records its SHA-256 as %s, but it has %s: it was changed or replaced", h.Hash, s.Hash)}}
	}
	// A head behind the last entry is an append interrupted between the entry and the head;
	// the next append moves it on.
	return nil
}
