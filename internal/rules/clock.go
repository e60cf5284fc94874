package rules

import (
	"fmt"
	"strings"
	"time"
)

// due computes when a clock started and when it ends, for a trigger instant. zone is where
// day-based clocks count days (the clock's own zone or the organisation's). The second result
// is the rule text.
func (b *book) due(c *clockSpec, trigger time.Time, zone *time.Location) (start, due time.Time, rule string) {
	start = trigger
	switch c.Kind {
	case "hours":
		// Elapsed time on the absolute timeline: a DST change never moves it.
		due = trigger.Add(time.Duration(c.N) * time.Hour)
	case "calendar_days":
		local := trigger.In(zone)
		y, m, d := local.Date()
		if c.From == "year_end" {
			y, m, d = y+1, time.January, 1
			start = time.Date(y, m, d, 0, 0, 0, 0, zone)
		}
		// Day 1 is the trigger's own day (or 1 January for year_end).
		due = time.Date(y, m, d+c.N-1, c.atHour, c.atMin, c.atSec, 0, zone)
	case "business_days":
		var missing []int
		due, missing = b.businessDays(c, trigger.In(zone))
		if len(missing) > 0 {
			c := *c
			c.Note = strings.TrimPrefix(c.Note+"; ", "; ") + fmt.Sprintf("no holiday data for %v: only weekends skipped", missing)
			return start.UTC(), due.UTC(), c.describe(zone)
		}
	case "months":
		due = addMonthsClamped(trigger.In(zone), c.N)
	}
	return start.UTC(), due.UTC(), c.describe(zone)
}

// businessDays counts N business days after the trigger's local day (which does not count),
// skipping weekends and the calendar's holidays. For a year the calendar does not cover it skips
// weekends only, which can only make the deadline earlier, and reports the year.
func (b *book) businessDays(c *clockSpec, local time.Time) (time.Time, []int) {
	cal := b.calendars[c.Calendar]
	y, m, d := local.Date()
	day := time.Date(y, m, d, 12, 0, 0, 0, time.UTC) // noon UTC: date stepping only
	var missing []int
	for n := 0; n < c.N; {
		day = day.AddDate(0, 0, 1)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		if !cal.years[day.Year()] {
			if len(missing) == 0 || missing[len(missing)-1] != day.Year() {
				missing = append(missing, day.Year())
			}
		} else if cal.days[day.Format("2006-01-02")] {
			continue
		}
		n++
	}
	y, m, d = day.Date()
	return time.Date(y, m, d, c.atHour, c.atMin, c.atSec, 0, local.Location()), missing
}

// addMonthsClamped is the same date n months later at the same wall-clock time, clamped to the
// last day of a shorter month (31 January + 1 month = 28 or 29 February).
func addMonthsClamped(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// describe renders the clock as the human-readable rule, e.g. "72 elapsed hours" or
// "30 calendar days (day 1 = the trigger's day; due 23:59:59 America/Los_Angeles)".
func (c *clockSpec) describe(zone *time.Location) string {
	after := ""
	if id, ok := strings.CutPrefix(c.Trigger, "submitted."); ok {
		after = " after " + id + " was submitted"
	}
	at := fmt.Sprintf("%02d:%02d:%02d", c.atHour, c.atMin, c.atSec)
	if c.atSec == 0 {
		at = fmt.Sprintf("%02d:%02d", c.atHour, c.atMin)
	}
	var base string
	var details []string
	switch c.Kind {
	case "hours":
		base = fmt.Sprintf("%d elapsed hours%s", c.N, after)
	case "calendar_days":
		if c.From == "year_end" {
			base = fmt.Sprintf("%d calendar days after the end of the calendar year", c.N)
			details = append(details, "day 1 = 1 January")
		} else {
			base = fmt.Sprintf("%d calendar days%s", c.N, after)
			details = append(details, "day 1 = the trigger's day")
		}
		details = append(details, "due "+at+" "+zone.String())
	case "business_days":
		base = fmt.Sprintf("%d business days%s", c.N, after)
		details = append(details, "trigger day not counted", "weekends and "+c.calTitle+" skipped", "due "+at+" "+zone.String())
	case "months":
		unit := "months"
		if c.N == 1 {
			unit = "month"
		}
		base = fmt.Sprintf("%d %s%s", c.N, unit, after)
		details = append(details, "same date and time, clamped to the month's end", zone.String())
	}
	if c.Note != "" {
		details = append(details, c.Note)
	}
	if c.Law != "" {
		return c.Law + " (policy SLA: " + strings.Join(append([]string{base}, details...), "; ") + ")"
	}
	if len(details) == 0 {
		return base
	}
	return base + " (" + strings.Join(details, "; ") + ")"
}
