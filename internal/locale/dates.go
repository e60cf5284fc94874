package locale

import (
	"fmt"
	"strings"
	"time"

	"github.com/breachops/breach/internal/rules"
)

// dateStyle is how one language writes a date and a time of day.
type dateStyle struct {
	months [12]string
	// date formats day, month name and year, in this order.
	date func(day int, month string, year int) string
	// clock formats hour and minute.
	clock func(h, m int) string
	// join joins a date and a time of day (default ", ").
	join string
	// sep joins the local time and its zone to the UTC time in the parentheses.
	sep string
	// unknown is said of an instant not recorded.
	unknown string
}

var styles = map[string]dateStyle{
	"en": {
		months:  [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("%02d:%02d", h, m) },
		sep:     "; ",
		unknown: "not recorded",
	},
	"de": {
		months:  [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d. %s %d", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("%02d:%02d Uhr", h, m) },
		sep:     "; ",
		unknown: "nicht erfasst",
	},
	"fr": {
		months: [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		date: func(d int, m string, y int) string {
			if d == 1 {
				return fmt.Sprintf("1er %s %d", m, y)
			}
			return fmt.Sprintf("%d %s %d", d, m, y)
		},
		clock:   func(h, m int) string { return fmt.Sprintf("%02d h %02d", h, m) },
		sep:     " ; ",
		unknown: "non renseigné",
	},
	"it": {
		months:  [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("ore %02d:%02d", h, m) },
		sep:     "; ",
		unknown: "non registrato",
	},
	"es": {
		months:  [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d de %s de %d", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("%02d:%02d", h, m) },
		sep:     "; ",
		unknown: "no registrado",
	},
	"nl": {
		months:  [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("%02d.%02d uur", h, m) },
		sep:     "; ",
		unknown: "niet vastgelegd",
	},
	"pl": {
		// The genitive, as a date takes it: 5 marca 2026.
		months:  [12]string{"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września", "października", "listopada", "grudnia"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d r.", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("godz. %02d:%02d", h, m) },
		sep:     "; ",
		unknown: "nie odnotowano",
	},
	"pt": {
		months:  [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d de %s de %d", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("%02dh%02d", h, m) },
		sep:     "; ",
		unknown: "não registado",
	},
	"sv": {
		months:  [12]string{"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"},
		date:    func(d int, m string, y int) string { return fmt.Sprintf("%d %s %d", d, m, y) },
		clock:   func(h, m int) string { return fmt.Sprintf("kl. %02d.%02d", h, m) },
		join:    " ",
		sep:     "; ",
		unknown: "inte registrerat",
	},
}

// HasDates reports whether this package writes dates the way lang does (otherwise in English).
func HasDates(lang string) bool { _, ok := styles[lang]; return ok }

func (s dateStyle) joiner() string {
	if s.join == "" {
		return ", "
	}
	return s.join
}

func style(lang string) dateStyle {
	if s, ok := styles[lang]; ok {
		return s
	}
	return styles[English]
}

// LoadZone returns the location of a zone: an IANA name from the rules' embedded database, or a
// fixed offset written as -07:00. An empty or unknown zone is UTC.
func LoadZone(zone string) *time.Location {
	if zone == "" || zone == "UTC" {
		return time.UTC
	}
	if off, err := time.Parse("-07:00", zone); err == nil {
		_, secs := off.Zone()
		return time.FixedZone(zone, secs)
	}
	loc, err := rules.Location(zone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Date writes the calendar date of t in zone the way lang writes dates: "5. März 2026".
func Date(t time.Time, lang, zone string) string {
	s := style(lang)
	if t.IsZero() {
		return s.unknown
	}
	l := t.In(LoadZone(zone))
	return s.date(l.Day(), s.months[l.Month()-1], l.Year())
}

// DateTime writes instant t for a reader in zone the way lang writes dates, with the UTC
// offset of the reader's time and, beside them, the time in UTC:
//
//	de: 5. März 2026, 15:30 Uhr (UTC+1; 14:30 Uhr UTC)
//	fr: 1er avril 2026, 00 h 30 (UTC+2 ; 31 mars 2026, 22 h 30 UTC)
//
// The UTC part repeats the date when it differs from the reader's. In UTC, or with no zone,
// it is the UTC time alone. A zero t is "not recorded" in lang.
func DateTime(t time.Time, lang, zone string) string {
	s := style(lang)
	if t.IsZero() {
		return s.unknown
	}
	u := t.UTC()
	utc := s.date(u.Day(), s.months[u.Month()-1], u.Year()) + s.joiner() + s.clock(u.Hour(), u.Minute()) + " UTC"
	loc := LoadZone(zone)
	if loc == time.UTC {
		return utc
	}
	l := t.In(loc)
	local := s.date(l.Day(), s.months[l.Month()-1], l.Year()) + s.joiner() + s.clock(l.Hour(), l.Minute())
	_, off := l.Zone()
	if off == 0 {
		// Lisbon, London, Dublin in winter: the reader's time is UTC.
		return local + " (UTC)"
	}
	if l.Year() == u.Year() && l.YearDay() == u.YearDay() {
		utc = s.clock(u.Hour(), u.Minute()) + " UTC"
	}
	return local + " (" + Offset(off) + s.sep + utc + ")"
}

// Offset writes a UTC offset in seconds as UTC+1, UTC-3, UTC+5:30 or UTC.
func Offset(secs int) string {
	if secs == 0 {
		return "UTC"
	}
	sign := "+"
	if secs < 0 {
		sign, secs = "-", -secs
	}
	h, m := secs/3600, secs%3600/60
	if m == 0 {
		return fmt.Sprintf("UTC%s%d", sign, h)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
}

// Number writes n with the thousands separator of lang: 12,345 (en), 12.345 (de, it, es, nl,
// pt), 12 345 (fr, pl, sv; with a no-break space).
func Number(n int, lang string) string {
	sep := ","
	switch lang {
	case "de", "it", "es", "nl", "pt", "da", "el", "id", "tr", "ro", "hr", "sl":
		sep = "."
	case "fr", "pl", "sv", "fi", "cs", "sk", "nb", "no", "ru", "uk", "hu", "lt", "lv", "et", "bg":
		sep = "\u00a0"
	}
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= 4 && sep != "," {
		// Four-digit numbers stand without a separator in these languages' style guides
		// (Duden allows both; the EU Interinstitutional Style Guide writes 1 000 and 1000).
		if neg {
			return "-" + s
		}
		return s
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	first := len(s) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(s[:first])
	for i := first; i < len(s); i += 3 {
		b.WriteString(sep)
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
