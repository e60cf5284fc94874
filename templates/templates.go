// Package templates holds the embedded text templates: regulator reports, customer notices,
// the post-incident report and the breach-register entry.
//
// The templates in this directory are English. A translation lives in the directory of its
// language (de/gdpr-art33-report.tmpl), renders the same data, and may redefine the shared
// blocks (de/audience-parts.tmpl redefines the "aud.*" blocks its reports use): each language's
// set is a copy of the English one with the language's files parsed over it and its own
// functions (dates, numbers, words). RenderIn renders a template in a language, or in English
// when that language has no translation of it, and says which it used.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/breachops/breach/internal/locale"
	"github.com/breachops/breach/internal/rules"
)

//go:embed *.tmpl */*.tmpl
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

var set = template.Must(template.New("").Funcs(funcs).Funcs(languageFuncs(locale.English)).Option("missingkey=error").ParseFS(files, "*.tmpl"))

// sets holds each language's template set, English (set) included; own names the templates
// each language other than English has a file of.
var sets, own = parseLanguages()

func parseLanguages() (map[string]*template.Template, map[string]map[string]bool) {
	sets := map[string]*template.Template{locale.English: set}
	own := map[string]map[string]bool{}
	dirs, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		lang := d.Name()
		if !locale.Valid(lang) || lang == locale.English {
			panic(fmt.Sprintf("templates: directory %s is not a language code other than en", lang))
		}
		names, err := fs.Glob(files, lang+"/*.tmpl")
		if err != nil {
			panic(err)
		}
		own[lang] = map[string]bool{}
		for _, n := range names {
			name := strings.TrimSuffix(path.Base(n), ".tmpl")
			if set.Lookup(name+".tmpl") == nil {
				panic(fmt.Sprintf("templates: %s translates %s, which has no English template", n, name))
			}
			own[lang][name] = true
		}
		t := template.Must(set.Clone())
		t.Funcs(funcs).Funcs(languageFuncs(lang))
		sets[lang] = template.Must(t.ParseFS(files, lang+"/*.tmpl"))
	}
	return sets, own
}

// Has reports whether a template exists (in English, as every template does).
func Has(name string) bool { return set.Lookup(name+".tmpl") != nil }

// alsoWrittenIn are templates whose English file is written in other languages as well: it
// serves readers of those languages as it is, with no translation of its own. Brazil's notices
// and report give every heading and sentence in Portuguese, then in English.
var alsoWrittenIn = map[string][]string{
	"br-subject-notice": {"pt"},
	"br-anpd-report":    {"pt"},
}

// HasIn reports whether a template exists in lang: English, a translation of its own, or an
// English file written in lang as well (alsoWrittenIn).
func HasIn(name, lang string) bool {
	if lang == locale.English {
		return Has(name)
	}
	return own[lang][name] || slices.Contains(alsoWrittenIn[name], lang)
}

// Names lists every template by name (without .tmpl), sorted.
func Names() []string {
	var out []string
	for _, t := range set.Templates() {
		if name, ok := strings.CutSuffix(t.Name(), ".tmpl"); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Languages lists the languages templates are written in, English first, then by code.
func Languages() []string {
	out := []string{locale.English}
	for l := range own {
		out = append(out, l)
	}
	sort.Strings(out[1:])
	return out
}

// Translations lists the languages other than English a template is written in, by code.
func Translations(name string) []string {
	var out []string
	for l, names := range own {
		if names[name] {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// Render executes the named template (without its .tmpl suffix), in English.
func Render(name string, data any) (string, error) {
	out, _, err := RenderIn(name, locale.English, data)
	return out, err
}

// RenderIn executes the named template in lang, or in English when lang has no translation of
// it; used is the language it was rendered in.
func RenderIn(name, lang string, data any) (out, used string, err error) {
	used = lang
	if !HasIn(name, lang) {
		used = locale.English
	}
	set := sets[used]
	if !own[used][name] {
		// English, or an English file that is written in used as well.
		set = sets[locale.English]
	}
	t := set.Lookup(name + ".tmpl")
	if t == nil {
		return "", "", fmt.Errorf("template %q does not exist", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		if used != locale.English {
			return "", "", fmt.Errorf("render template %s (%s): %w", name, used, err)
		}
		return "", "", fmt.Errorf("render template %s: %w", name, err)
	}
	return b.String(), used, nil
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
