package activities

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/locale"
	"github.com/breachops/breach/internal/subjects"
	"github.com/breachops/breach/templates"
)

// Substitution tags of the batched notice. The notice is rendered once per group with these
// in place of the per-person fields, and SendGrid puts each person's values in.
const (
	TagName = "[%name%]"
	TagData = "[%data%]"
)

// The two category markers let a group check that its template lists categories the way one
// tag can stand for: joined by ", " in one place.
const (
	dataMarker1 = "[%data:1%]"
	dataMarker2 = "[%data:2%]"
	dataJoined  = dataMarker1 + ", " + dataMarker2
)

// refJurisdiction is a code no person has (ISO 3166 leaves ZZ to users): a template whose text
// for a person's jurisdiction equals its text for ZZ does not depend on the jurisdiction.
const refJurisdiction = "ZZ"

// Caps on a person's substituted values, far above real names and category lists, so that
// one odd row cannot push a personalization over SendGrid's 10,000-byte substitution limit.
const (
	maxNameBytes = 256
	maxDataBytes = 4096
)

// noticeGroup is one rendering of a notice template that many people share: the same text
// once their name and data categories are substituted.
type noticeGroup struct {
	// label names the group in batch keys: template, the language the text is written in (for
	// incidents with languages only: the labels of those before stay as they were, so that a
	// resumed send finds its batches), jurisdiction ("any" when the text does not depend on
	// it), and whether name and categories are substituted (n, c or x).
	label    string
	template string
	subject  string
	text     string
	name     bool
	data     bool
	// lang is the language of the text ("" for incidents without languages: English); wanted
	// the language chosen for the group's people.
	lang, wanted string
}

type groupKey struct {
	template, jurisdiction string
	name, data             bool
	// lang is the language wanted for the people of the group; "" for incidents declared
	// before languages were chosen.
	lang string
}

// noticeGroups renders and caches the groups of one incident's notice.
type noticeGroups struct {
	incidentID string
	drill      bool
	notice     incident.NoticeContent
	byKey      map[groupKey]*noticeGroup
	rendered   map[groupKey]rendering
}

func newNoticeGroups(in incident.NoticeChunkInput) *noticeGroups {
	return &noticeGroups{incidentID: in.IncidentID, drill: in.Drill, notice: in.Notice,
		byKey: map[groupKey]*noticeGroup{}, rendered: map[groupKey]rendering{}}
}

// noticeTemplate is the template a route's notice is written with.
func noticeTemplate(route incident.NoticeRoute) string {
	if templates.Has(route.Template) {
		return route.Template
	}
	return "gdpr-art34-notice"
}

// group returns the group of a person with the given route and row.
func (g *noticeGroups) group(route incident.NoticeRoute, row subjects.Row) (*noticeGroup, error) {
	k := groupKey{template: noticeTemplate(route), jurisdiction: row.Jurisdiction, name: row.Name != "", data: len(row.Categories) > 0}
	if lang, localized := noticeLanguage(g.notice, row); localized {
		k.lang = lang
	}
	if grp, ok := g.byKey[k]; ok {
		return grp, nil
	}
	text, used, err := g.render(k)
	if err != nil {
		return nil, err
	}
	ref := k
	ref.jurisdiction = refJurisdiction
	refText, _, err := g.render(ref)
	if err != nil {
		return nil, err
	}
	jl := "any"
	if text != refText {
		jl = k.jurisdiction
	}
	flags := []byte("xx")
	if k.name {
		flags[0] = 'n'
	}
	if k.data {
		flags[1] = 'c'
	}
	subject, body := templates.SplitSubject(text)
	label := k.template + "." + jl + "." + string(flags)
	grp := &noticeGroup{template: k.template, subject: subject, text: body, name: k.name, data: k.data}
	if k.lang != "" {
		// By the language of the text: people whose language has no translation share the
		// English group.
		label = k.template + "." + used + "." + jl + "." + string(flags)
		grp.lang, grp.wanted = used, k.lang
	}
	grp.label = label
	g.byKey[k] = grp
	return grp, nil
}

// rendering is a group's text and the language it is written in.
type rendering struct{ text, lang string }

// render renders the template for k with tags in place of the per-person fields, in the
// language wanted (k.lang) or English, and says which.
func (g *noticeGroups) render(k groupKey) (string, string, error) {
	if r, ok := g.rendered[k]; ok {
		return r.text, r.lang, nil
	}
	v := templates.NoticeView{NoticeContent: g.notice, IncidentID: g.incidentID, Drill: g.drill, Jurisdiction: k.jurisdiction}
	lang := locale.English
	if k.lang != "" {
		lang, v.Zone = k.lang, locale.Zone(k.jurisdiction)
	}
	if k.name {
		v.Name = TagName
	}
	if k.data {
		v.Categories = []string{dataMarker1, dataMarker2}
	}
	out, used, err := templates.RenderIn(k.template, lang, v)
	if err != nil {
		return "", "", temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	out = strings.ReplaceAll(out, dataJoined, TagData)
	if strings.Contains(out, dataMarker1) || strings.Contains(out, dataMarker2) {
		msg := fmt.Sprintf("notice template %s (%s) lists data categories other than joined by \", \" in one place: one substitution cannot carry them; batched notices need that form", k.template, used)
		return "", "", temporal.NewNonRetryableApplicationError(msg, "TemplateError", nil)
	}
	g.rendered[k] = rendering{text: out, lang: used}
	return out, used, nil
}

// substitutions are a person's values for the group's tags: the categories in the group's
// language.
func (grp *noticeGroup) substitutions(row subjects.Row) map[string]string {
	if !grp.name && !grp.data {
		return nil
	}
	m := make(map[string]string, 2)
	if grp.name {
		m[TagName] = truncate(row.Name, maxNameBytes)
	}
	if grp.data {
		cats := row.Categories
		if grp.lang != "" {
			cats = make([]string, len(row.Categories))
			for i, c := range row.Categories {
				cats[i] = templates.Category(grp.lang, c)
			}
		}
		m[TagData] = truncate(strings.Join(cats, ", "), maxDataBytes)
	}
	return m
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
