package rules

import (
	"fmt"
	"slices"
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
	return b.businessDaysSkipping(c, local, "")
}

// businessDaysSkipping is businessDays skipping the days of the calendar named also as well.
func (b *book) businessDaysSkipping(c *clockSpec, local time.Time, also string) (time.Time, []int) {
	cal := b.calendars[c.Calendar]
	extra := b.calendars[also]
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
		} else if cal.days[day.Format("2006-01-02")] || (extra != nil && extra.days[day.Format("2006-01-02")]) {
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

// statutory computes the statutory outer limit of a clock whose conservative deadline is due:
// the law's own counting (first day excluded, more days skipped, a deadline on a weekend or
// holiday rolled forward). It returns the zero time when that is not later than due, or when
// the organisation's sector cannot use the later reading; the second result says how it was
// computed, or why there is none.
func (e *evaluation) statutory(c *clockSpec, trigger time.Time, zone *time.Location, due time.Time) (time.Time, string) {
	st := c.Statutory
	if intersects(e.f.Sectors, st.UnlessSectors) {
		return time.Time{}, ""
	}
	limit := due
	var notes []string
	switch {
	case st.ExcludeFirstDay:
		// Day 1 is the day after the trigger: one day later than the conservative count.
		local := due.In(zone)
		y, m, d := local.Date()
		limit = time.Date(y, m, d+1, c.atHour, c.atMin, c.atSec, 0, zone)
		notes = append(notes, "first day excluded")
	case st.AlsoSkip != "":
		wider := *c
		var missing []int
		limit, missing = e.b.businessDaysSkipping(&wider, trigger.In(zone), st.AlsoSkip)
		notes = append(notes, "also skipping "+e.b.calendars[st.AlsoSkip].Title)
		if len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("no holiday data for %v: only weekends skipped", missing))
		}
	}
	if st.Roll != "" {
		cal, name := e.rollCalendar(st.Calendar)
		local := limit.In(zone)
		day := time.Date(local.Year(), local.Month(), local.Day(), 12, 0, 0, 0, time.UTC)
		rolled := false
		var missing []int
		for {
			off, known := cal.nonWorking(day)
			if cal != nil && !known && (len(missing) == 0 || missing[len(missing)-1] != day.Year()) {
				missing = append(missing, day.Year())
			}
			if !off {
				break
			}
			day = day.AddDate(0, 0, 1)
			rolled = true
		}
		if rolled {
			y, m, d := day.Date()
			if st.Roll == "next_working_day_noon" {
				limit = time.Date(y, m, d, 12, 0, 0, 0, zone)
			} else {
				limit = time.Date(y, m, d, c.atHour, c.atMin, c.atSec, 0, zone)
			}
		}
		what := "the next business day"
		if st.Roll == "next_working_day_noon" {
			what = "12:00 on the next working day"
		}
		notes = append(notes, "a deadline on a weekend or a holiday ("+name+") moves to "+what+" ("+zone.String()+")")
		if len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("no holiday data for %v: only weekends count", missing))
		}
	}
	if !limit.After(due) {
		return time.Time{}, ""
	}
	return limit.UTC(), st.Law + " (" + strings.Join(notes, "; ") + ")"
}

// rollCalendar is the calendar a statutory roll uses, and its title; nil (weekends only) when
// the organisation's Member State has none.
func (e *evaluation) rollCalendar(name string) (*calendarSpec, string) {
	if name != memberStateCalendar {
		c := e.b.calendars[name]
		return c, c.Title
	}
	country := e.memberState()
	for _, n := range sortedKeys(e.b.calendars) {
		if c := e.b.calendars[n]; country != "" && c.Country == country {
			return c, c.Title
		}
	}
	if country == "" {
		return nil, "no EEA establishment named, so weekends only"
	}
	return nil, "no holiday calendar for " + country + ", so weekends only"
}

// memberState is the organisation's EEA Member State: the main establishment's if it is in the
// EEA, else the first EEA establishment in alphabetical order; "" if none.
func (e *evaluation) memberState() string {
	if c := countryOf(e.f.MainEstablishment); eea[c] {
		return c
	}
	var est []string
	for _, x := range e.f.Establishments {
		if eea[countryOf(x)] {
			est = append(est, countryOf(x))
		}
	}
	if len(est) == 0 {
		return ""
	}
	return slices.Min(est)
}

// nonWorking reports whether day (a date at noon UTC) is a Saturday, a Sunday or a holiday of
// the calendar, and whether the calendar covers its year (a nil calendar covers none).
func (c *calendarSpec) nonWorking(day time.Time) (off, known bool) {
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return true, c != nil && c.years[day.Year()]
	}
	if c == nil || !c.years[day.Year()] {
		return false, false
	}
	return c.days[day.Format("2006-01-02")], true
}
