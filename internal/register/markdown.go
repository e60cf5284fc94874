package register

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteMarkdown writes the entries for people: a heading per incident with the Art. 33(5)
// fields under their own headings.
func WriteMarkdown(w io.Writer, m Meta, entries []Entry) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Breach register\n\nExported %s from %s: %d incidents. GDPR Art. 33(5): every personal data breach, notified or not.\n",
		stamp(m.ExportedAt), m.Register, len(entries))
	if m.Intact {
		fmt.Fprintf(&b, "\nThe whole register verified intact when exported; its head (last entry) has the SHA-256 %s.\n", m.Head)
	} else {
		b.WriteString("\n**The register FAILED verification when exported: entries were changed or deleted outside breach (`breach register verify` names them).**\n")
	}
	for _, e := range entries {
		b.WriteString("\n")
		writeEntry(&b, e, "##")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteEntryMarkdown writes one entry's effective content, under a heading of level (##).
func WriteEntryMarkdown(w io.Writer, e Entry) error {
	var b strings.Builder
	writeEntry(&b, e, "#")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeEntry(b *strings.Builder, e Entry, h string) {
	c := e.Effective()
	drill := ""
	if c.Drill {
		drill = " [DRILL]"
	}
	fmt.Fprintf(b, "%s %s: %s%s\n\n", h, c.IncidentID, oneLine(c.Title), drill)
	fmt.Fprintf(b, "- Status: **%s**\n- Aware since: %s", c.Status, stamp(c.AwareAt))
	if c.AwareZone != "" {
		fmt.Fprintf(b, " (%s)", c.AwareZone)
	}
	fmt.Fprintf(b, "\n- Declared: %s by %s via %s\n- Systems: %s\n", when(c.DeclaredAt), c.DeclaredBy, c.Source, strings.Join(c.Systems, ", "))
	if !c.ClosedAt.IsZero() {
		fmt.Fprintf(b, "- Closed: %s by %s\n", stamp(c.ClosedAt), c.ClosedBy)
	}
	if !c.CancelledAt.IsZero() {
		fmt.Fprintf(b, "- Cancelled: %s\n", stamp(c.CancelledAt))
	}
	section(b, h, "Facts", orNone(c.Description, "No description given."), scopeLine(c.Scope))
	section(b, h, "Effects", orNone(c.Consequences, "Not stated."))
	section(b, h, "Remedial action", orNone(c.Measures, "No measures stated."),
		bullet("Containment", containmentText(c.Containment)), bullet("Notices to the people affected", noticesText(c.Notices)),
		bullet("Close summary", c.CloseSummary))
	section(b, h, "Decision and reasoning", decisionLines(c.Decision)...)
	section(b, h, "Obligations", obligationLines(c)...)
	if late := lateFilings(c); len(late) > 0 {
		section(b, h, "Late filings", listLines(lateText(late))...)
	}
	section(b, h, "Evidence (SHA-256)", evidenceLines(c.Evidence)...)
	if len(e.Corrections) > 0 {
		var lines []string
		for _, k := range e.Corrections {
			signed := ""
			if k.Signature != nil {
				signed = ", signed with key " + k.Signature.KeyID
			}
			lines = append(lines, fmt.Sprintf("- version %d, %s by %s%s: %s (was: %q)", k.Version, k.Field, k.By, signed, k.Reason, k.From))
		}
		section(b, h, "Corrections", lines...)
	}
	fmt.Fprintf(b, "\n_Entry version %d, recorded %s, SHA-256 %s._\n", e.Version, stamp(e.RecordedAt), e.Hash)
}

func section(b *strings.Builder, h, title string, lines ...string) {
	fmt.Fprintf(b, "\n%s# %s\n\n", h, title)
	for _, l := range lines {
		if l != "" {
			b.WriteString(l + "\n")
		}
	}
}

func orNone(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}

func bullet(name, value string) string {
	if value == "" {
		return ""
	}
	return "- " + name + ": " + value
}

// when is an instant for people: the time not recorded (closing records from before) says so.
func when(t time.Time) string { return orNone(stamp(t), "(time not recorded)") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func scopeLine(s *Scope) string {
	if s == nil {
		return "- Scope: not assessed yet"
	}
	return fmt.Sprintf("- Scope: %d data subjects, %d records; by jurisdiction: %s; by data category: %s",
		s.Subjects, s.Records, orNone(sortedCounts(s.ByJurisdiction), "none"), orNone(sortedCounts(s.ByCategory), "none"))
}

func decisionLines(d *Decision) []string {
	if d == nil {
		return []string{"Not decided yet."}
	}
	out := []string{fmt.Sprintf("- Risk: **%s**; notify the authority: %s; notify the people affected: %s",
		d.Risk, yesNo(d.NotifyAuthority), yesNo(d.NotifySubjects))}
	if d.EncryptedUnintelligible {
		out = append(out, "- The data is unintelligible to anyone not authorised (Art. 34(3)(a))")
	}
	by := fmt.Sprintf("- Decided by %s at %s", d.By, when(d.DecidedAt))
	if d.KeyID != "" {
		by += fmt.Sprintf(", signed by %s with key %s", d.SignedBy, d.KeyID)
	}
	return append(out, by, "", "Reasoning: "+d.Reasoning)
}

func obligationLines(c Content) []string {
	var out []string
	if len(c.Obligations) == 0 {
		out = append(out, "None: the law required no notification.")
	}
	for _, o := range c.Obligations {
		out = append(out, "- "+ObligationText(o))
	}
	decided, outside := decidedNotRequired(c)
	for _, n := range decided {
		out = append(out, "- not required: "+n.ID+": "+n.Reason)
	}
	if outside > 0 {
		out = append(out, fmt.Sprintf("- %d more not in scope: no establishment, affected resident or sector there", outside))
	}
	if c.Rulebook != "" {
		out = append(out, "", "Rules: "+c.Rulebook)
	}
	return out
}

func evidenceLines(es []Evidence) []string {
	if len(es) == 0 {
		return []string{"None recorded."}
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("- %s %s: `%s`", e.What, e.Name, e.SHA256)
	}
	return out
}

func listLines(s string) []string {
	var out []string
	for _, p := range strings.Split(s, " | ") {
		out = append(out, "- "+p)
	}
	return out
}

// Change is one field that differs between two versions.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Diff lists the fields that differ from prev to next (what a version changed).
func Diff(prev, next Entry) []Change {
	skip := map[string]bool{"version": true, "recorded_at": true, "entry_sha256": true, "corrections": true}
	a, b := Fields(prev), Fields(next)
	var out []Change
	for i := range b {
		if skip[b[i].Name] || a[i].Value == b[i].Value {
			continue
		}
		out = append(out, Change{Field: b[i].Name, From: a[i].Value, To: b[i].Value})
	}
	return out
}
