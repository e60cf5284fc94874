package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a span of drill time, written like Go durations with days allowed: 20m, 4h,
// 1h30m, 3d, 1d12h. An inject's "T+20m" is accepted too. It is JSON-encoded as that text, so
// workflow histories stay readable.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes d compactly: 90m is "1h30m", 72h is "3d", zero is "0m".
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// FormatDuration writes d in days, hours, minutes and seconds, leaving out zero parts; spans
// under a minute keep their seconds, longer ones are rounded to the second.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	d = d.Round(time.Second)
	if d == 0 {
		return "0m"
	}
	var b strings.Builder
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	for _, p := range []struct {
		n    time.Duration
		unit string
	}{{days, "d"}, {h, "h"}, {m, "m"}, {s, "s"}} {
		if p.n > 0 {
			fmt.Fprintf(&b, "%d%s", p.n, p.unit)
		}
	}
	return b.String()
}

// ParseDuration reads a Duration: Go syntax plus a leading day count ("3d", "1d12h") and an
// optional "T+" prefix. Negative spans are refused.
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	in = strings.TrimPrefix(strings.TrimPrefix(in, "T+"), "t+")
	if in == "" {
		return 0, fmt.Errorf("empty duration; write it like 20m, 4h or 3d")
	}
	var total time.Duration
	if i := strings.IndexByte(in, 'd'); i > 0 {
		days, err := strconv.Atoi(in[:i])
		if err != nil || days < 0 || days > 3650 {
			return 0, fmt.Errorf("%q is not a duration; write it like 20m, 4h, 1h30m or 3d", s)
		}
		total = time.Duration(days) * 24 * time.Hour
		in = in[i+1:]
	}
	if in != "" {
		d, err := time.ParseDuration(in)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration; write it like 20m, 4h, 1h30m or 3d", s)
		}
		total += d
	}
	if total < 0 || strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("%q is negative; drill time runs forward from the start", s)
	}
	return Duration(total), nil
}

// UnmarshalYAML reads a duration scalar, naming its line on error.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!int" || n.Tag == "!!float" {
		return &Error{Line: n.Line, Msg: fmt.Sprintf("expected a duration like 20m, 4h or 3d, got %q (a bare number has no unit)", n.Value)}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &Error{Line: n.Line, Msg: err.Error()}
	}
	*d = v
	return nil
}

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads the text form, or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
