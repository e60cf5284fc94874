package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cronField is one of the five fields of a cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{name: "day-of-week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

var cronMacros = map[string]bool{"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true}

// ValidateCron checks a schedule's cron expression before it reaches Temporal: five fields
// (minute hour day-of-month month day-of-week) with lists, ranges, steps and month or weekday
// names; a macro such as @daily; or "@every 12h". A "CRON_TZ=Europe/Berlin " prefix sets the
// zone. The error names the field that is wrong.
func ValidateCron(expr string) error {
	s := strings.TrimSpace(expr)
	if s == "" {
		return fmt.Errorf("empty cron expression; write five fields like \"0 9 * * 1\" (Mondays at 09:00)")
	}
	if strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ=") {
		zone, rest, _ := strings.Cut(s, " ")
		zone = zone[strings.IndexByte(zone, '=')+1:]
		if _, err := time.LoadLocation(zone); err != nil || zone == "" {
			return fmt.Errorf("cron time zone %q is not an IANA zone (e.g. Europe/Berlin)", zone)
		}
		s = strings.TrimSpace(rest)
	}
	if strings.HasPrefix(s, "@every") {
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(s, "@every")))
		if err != nil || d < time.Second {
			return fmt.Errorf("%q: @every needs an interval of at least one second, like @every 24h", expr)
		}
		return nil
	}
	if strings.HasPrefix(s, "@") {
		if cronMacros[strings.ToLower(s)] {
			return nil
		}
		return fmt.Errorf("%q is not a cron macro; use @yearly, @monthly, @weekly, @daily, @hourly or @every DURATION", s)
	}
	parts := strings.Fields(s)
	if len(parts) != len(cronFields) {
		return fmt.Errorf("%q has %d fields; a cron expression has five: minute hour day-of-month month day-of-week (e.g. \"0 9 * * 1\")", expr, len(parts))
	}
	for i, p := range parts {
		if err := cronFields[i].check(p); err != nil {
			return fmt.Errorf("%q: %s field %q: %v", expr, cronFields[i].name, p, err)
		}
	}
	return nil
}

func (f cronField) check(s string) error {
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			return fmt.Errorf("empty list item")
		}
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 {
				return fmt.Errorf("step %q must be a whole number of at least 1", step)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := f.value(lo)
		if err != nil {
			return err
		}
		if isRange {
			b, err := f.value(hi)
			if err != nil {
				return err
			}
			if b < a {
				return fmt.Errorf("range %s runs backwards", rng)
			}
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if len(f.names) > 0 {
			return 0, fmt.Errorf("%q is neither a number %d-%d nor a name (%s)", s, f.min, f.max, strings.Join(f.names, ", "))
		}
		return 0, fmt.Errorf("%q is not a number %d-%d", s, f.min, f.max)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}
