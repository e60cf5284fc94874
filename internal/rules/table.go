package rules

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteTable writes the result for people: obligations nearest deadline first with the time
// left as of now (passed in: this package never reads the clock), then what was ruled out and
// why.
func WriteTable(w io.Writer, res Result, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(res.Obligations) == 0 {
		fmt.Fprintln(tw, "No notification obligations.")
	} else {
		fmt.Fprintf(tw, "%d obligations, nearest deadline first (time left as of %s):\n\n",
			len(res.Obligations), now.UTC().Format("2006-01-02 15:04 MST"))
		fmt.Fprintln(tw, "DUE (UTC)\tLEFT\tOBLIGATION\tAUDIENCE\tRULE")
		for _, o := range res.Obligations {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.DueAt.UTC().Format("2006-01-02 15:04:05"),
				TimeLeft(o.DueAt.Sub(now)), o.ID, o.Audience, o.Rule)
		}
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
