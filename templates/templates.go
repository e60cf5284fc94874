// Package templates holds the embedded text templates: regulator reports, customer notices,
// the post-incident report and the breach-register entry.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/breachops/breach/internal/rules"
)

//go:embed *.tmpl
var files embed.FS

var funcs = template.FuncMap{
	"join": strings.Join,
	"utc": func(t time.Time) string {
		if t.IsZero() {
			return "not recorded"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"local": func(t time.Time, zone string) string {
		if t.IsZero() {
			return "not recorded"
		}
		if off, err := time.Parse("-07:00", zone); err == nil {
			return t.In(off.Location()).Format("2006-01-02 15:04 -07:00")
		}
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "" {
			return t.UTC().Format("2006-01-02 15:04 UTC")
		}
		return t.In(loc).Format("2006-01-02 15:04 MST") + " (" + zone + ")"
	},
	"sortedCounts": func(m map[string]int) []KV {
		out := make([]KV, 0, len(m))
		for k, v := range m {
			out = append(out, KV{Key: k, Value: v})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Value != out[j].Value {
				return out[i].Value > out[j].Value
			}
			return out[i].Key < out[j].Key
		})
		return out
	},
	"orNone": func(s string) string {
		if strings.TrimSpace(s) == "" {
			return "(none given)"
		}
		return s
	},
	// eea reports whether a jurisdiction code lies in the European Economic Area.
	"eea": rules.IsEEA,
	// pair passes two values to a block ({{template "aud.in-country" (pair . "JP")}}).
	"pair": func(a, b any) []any { return []any{a, b} },
	"indent": func(prefix, s string) string {
		return prefix + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
	},
}

// KV is a key and a count, for sorted listings.
type KV struct {
	Key   string
	Value int
}

var set = template.Must(template.New("").Funcs(funcs).Option("missingkey=error").ParseFS(files, "*.tmpl"))

// Has reports whether a template exists.
func Has(name string) bool { return set.Lookup(name+".tmpl") != nil }

// Render executes the named template (without its .tmpl suffix).
func Render(name string, data any) (string, error) {
	t := set.Lookup(name + ".tmpl")
	if t == nil {
		return "", fmt.Errorf("template %q does not exist", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render template %s: %w", name, err)
	}
	return b.String(), nil
}

// SplitSubject splits a rendered message whose first line is "Subject: ..." into subject and
// body.
func SplitSubject(rendered string) (subject, body string) {
	first, rest, _ := strings.Cut(rendered, "\n")
	if s, ok := strings.CutPrefix(first, "Subject: "); ok {
		return strings.TrimSpace(s), strings.TrimLeft(rest, "\n")
	}
	return "", rendered
}
