package ingress

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	breachslack "github.com/breachops/breach/internal/slack"
)

// StatusText is an incident's status for one reader: phase, containment, deadlines with the
// time left, and what is pending.
func StatusText(st incident.Status, now time.Time) string {
	var b strings.Builder
	drill := ""
	if st.Drill {
		drill = " [DRILL]"
	}
	fmt.Fprintf(&b, "*%s%s: %s*\nPhase: %s · declared by %s · aware since %s",
		st.IncidentID, drill, breachslack.Escape(st.Title), breachslack.PhaseLabel(st.Phase),
		breachslack.Mention(st.DeclaredBy), fmtUTC(st.AwareAt))
	if len(st.Containment) > 0 {
		b.WriteString("\n*Containment:*")
		for _, c := range st.Containment {
			fmt.Fprintf(&b, " `%s` %s;", breachslack.Escape(c.System), breachslack.Escape(c.State))
		}
	}
	if d := st.Decision; d != nil {
		fmt.Fprintf(&b, "\n*DPO decision:* risk %s by %s", breachslack.Escape(d.Risk), breachslack.Mention(d.By))
	}
	obs := append([]incident.ObligationStatus{}, st.Obligations...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].DueAt.Before(obs[j].DueAt) })
	if len(obs) > 0 {
		b.WriteString("\n*Deadlines:*")
		for _, o := range obs {
			left := "*" + breachslack.Left(o.DueAt, now) + "*"
			if o.State == incident.OblFiled {
				left = "done " + fmtUTC(o.SubmittedAt)
				if o.Late {
					left += " (late)"
				}
			}
			fmt.Fprintf(&b, "\n• `%s` to %s: %s, due %s, %s", breachslack.Escape(o.ID), breachslack.Escape(o.Audience),
				breachslack.Escape(o.State), fmtUTC(o.DueAt), left)
		}
	} else if st.Decision == nil && st.ClosedAt.IsZero() {
		due := st.AwareAt.Add(72 * time.Hour)
		fmt.Fprintf(&b, "\n*Deadline if notifiable:* GDPR Art. 33, %s, *%s*", fmtUTC(due), breachslack.Left(due, now))
	}
	if a := st.Alerts; a.State != "" && a.State != incident.AlertsNotRequired {
		fmt.Fprintf(&b, "\n*Customer alerts:* %s, %d/%d sent", a.State, a.Sent, a.Total)
	}
	if len(st.Pending) > 0 {
		b.WriteString("\n*Waiting for:*")
		for _, p := range st.Pending {
			fmt.Fprintf(&b, "\n• %s (%s)", breachslack.Escape(p.Description), p.Role)
			if !p.DueAt.IsZero() {
				fmt.Fprintf(&b, ", %s", breachslack.Left(p.DueAt, now))
			}
		}
	}
	if !st.ClosedAt.IsZero() {
		fmt.Fprintf(&b, "\nClosed %s by %s", fmtUTC(st.ClosedAt), breachslack.Mention(st.ClosedBy))
	}
	return b.String()
}

// OneLine is an incident in a list: ID, title, phase and the nearest open deadline.
func OneLine(st incident.Status, now time.Time) string {
	line := fmt.Sprintf("*%s*: %s · %s", st.IncidentID, breachslack.Escape(st.Title), breachslack.PhaseLabel(st.Phase))
	var next *incident.ObligationStatus
	for i := range st.Obligations {
		o := &st.Obligations[i]
		if o.State != incident.OblFiled && (next == nil || o.DueAt.Before(next.DueAt)) {
			next = o
		}
	}
	if next != nil {
		line += fmt.Sprintf(" · next: `%s` %s", next.ID, breachslack.Left(next.DueAt, now))
	}
	return line
}
