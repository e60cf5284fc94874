package incident

import "time"

// ReminderPolicy is how reminders back off while something waits on people: every Every at
// first, then every Slow once SlowAfter has passed (at least hourly), then once a day once
// DailyAfter has passed. Zero fields take the defaults of what is reminded.
type ReminderPolicy struct {
	Every      time.Duration `json:"every,omitempty"`
	SlowAfter  time.Duration `json:"slow_after,omitempty"`
	Slow       time.Duration `json:"slow,omitempty"`
	DailyAfter time.Duration `json:"daily_after,omitempty"`
}

// Defaults: a manual isolation is chased every 15 minutes for the first hour, hourly for the
// first week, then daily; an overdue obligation every 6 hours for a week, then daily.
var (
	manualReminders  = ReminderPolicy{Every: 15 * time.Minute, SlowAfter: time.Hour, Slow: time.Hour, DailyAfter: 7 * 24 * time.Hour}
	overdueReminders = ReminderPolicy{Every: 6 * time.Hour, SlowAfter: 7 * 24 * time.Hour, Slow: 6 * time.Hour, DailyAfter: 7 * 24 * time.Hour}
)

// withDefaults fills zero fields from d.
func (p ReminderPolicy) withDefaults(d ReminderPolicy) ReminderPolicy {
	if p.Every <= 0 {
		p.Every = d.Every
	}
	if p.SlowAfter <= 0 {
		p.SlowAfter = d.SlowAfter
	}
	if p.Slow <= 0 {
		p.Slow = max(d.Slow, p.Every)
	}
	if p.DailyAfter <= 0 {
		p.DailyAfter = d.DailyAfter
	}
	return p
}

// Manual is the policy for a manual isolation; Overdue the one for an overdue obligation,
// whose reminders are never more frequent than its first ones.
func (p ReminderPolicy) Manual() ReminderPolicy { return p.withDefaults(manualReminders) }

// Overdue is the policy for an overdue obligation.
func (p ReminderPolicy) Overdue() ReminderPolicy {
	q := ReminderPolicy{Every: overdueReminders.Every}
	if p.Every > 0 {
		q.Every = p.Every
	}
	q.SlowAfter, q.Slow, q.DailyAfter = p.DailyAfter, q.Every, p.DailyAfter
	return q.withDefaults(overdueReminders)
}

// Scaled compresses the policy for a drill running scale times faster.
func (p ReminderPolicy) Scaled(scale float64) ReminderPolicy {
	if scale <= 1 {
		return p
	}
	f := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }
	return ReminderPolicy{Every: f(p.Every), SlowAfter: f(p.SlowAfter), Slow: f(p.Slow), DailyAfter: f(p.DailyAfter)}
}

// Day is a day in the policy's time (scaled with it).
func (p ReminderPolicy) Day() time.Duration {
	if p.DailyAfter >= 7*24*time.Hour {
		return 24 * time.Hour
	}
	// A scaled policy: a day shrinks as the week did.
	return p.DailyAfter / 7
}

// At is the instant of the k-th reminder (from 1) of something waiting since start.
func (p ReminderPolicy) At(start time.Time, k int) time.Time {
	t := start
	for i := 0; i < k; i++ {
		waited := t.Sub(start)
		switch {
		case waited < p.SlowAfter:
			t = t.Add(p.Every)
		case waited < p.DailyAfter:
			t = t.Add(p.Slow)
		default:
			t = t.Add(p.Day())
		}
	}
	return t
}
