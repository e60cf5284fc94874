package rules

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the result for people: obligations nearest deadline first with the time
// left as of now (passed in: this package never reads the clock) and the statutory outer limit
// where the law's own counting gives a later one; how each resolved authority was determined;
// which obligations law enforcement may delay; then what was ruled out and why.
func WriteTable(w io.Writer, res Result, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var resolved []Obligation
	var delayable []string
	if len(res.Obligations) == 0 {
		fmt.Fprintln(tw, "No notification obligations.")
	} else {
		fmt.Fprintf(tw, "%d obligations, nearest deadline first (time left as of %s):\n\n",
			len(res.Obligations), now.UTC().Format("2006-01-02 15:04 MST"))
		fmt.Fprintln(tw, "DUE (UTC)\tLEFT\tSTATUTORY LIMIT (UTC)\tOBLIGATION\tAUDIENCE\tRULE")
		for _, o := range res.Obligations {
			outer := "-"
			if !o.StatutoryLimit.IsZero() {
				outer = o.StatutoryLimit.UTC().Format("2006-01-02 15:04:05")
			}
			rule := o.Rule
			if o.StatutoryRule != "" {
				rule += "; statutory limit: " + o.StatutoryRule
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.DueAt.UTC().Format("2006-01-02 15:04:05"),
				TimeLeft(o.DueAt.Sub(now)), outer, o.ID, o.Audience, rule)
			if len(o.Reasoning) > 0 {
				resolved = append(resolved, o)
			}
			if o.LawEnforcementDelay {
				delayable = append(delayable, o.ID)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(resolved) > 0 {
		fmt.Fprintf(w, "\nHow the competent authorities were determined (AUTHORITIES.md):\n")
		for _, o := range resolved {
			fmt.Fprintf(w, "\n%s: %s\n", o.ID, o.Authority.Name)
			for _, step := range o.Reasoning {
				fmt.Fprintf(w, "  %s\n", step)
			}
		}
	}
	if len(delayable) > 0 {
		fmt.Fprintf(w, "\nThe law lets law enforcement delay: %s.\n", strings.Join(delayable, ", "))
	}
	if len(res.NotRequired) > 0 {
		fmt.Fprintf(tw, "\nNot required (%d):\n\n", len(res.NotRequired))
		fmt.Fprintln(tw, "OBLIGATION\tREASON")
		for _, n := range res.NotRequired {
			fmt.Fprintf(tw, "%s\t%s\n", n.ID, n.Reason)
		}
	}
	return tw.Flush()
}

// TimeLeft renders the time to a deadline: "2d 04h", "5h 30m", "12m", or "OVERDUE 3h 00m".
func TimeLeft(d time.Duration) string {
	if d < 0 {
		return "OVERDUE " + span(-d)
	}
	return span(d)
}

func span(d time.Duration) string {
	d = d.Truncate(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %02dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}
