package templates

import (
	"time"

	"github.com/breachops/breach/incident"
)

// ReportView is what a report template renders: the report input, whether the text is the one
// submitted (Final) or a draft, when the draft was prepared, and the reader's time zone.
type ReportView struct {
	incident.ReportInput
	Final      bool
	PreparedAt time.Time
	// Zone is the time zone of the report's reader (the authority's): translations write their
	// dates in it, with UTC beside them. Empty is UTC.
	Zone string
}

// NoticeView is what a notice template renders for one person: the incident's notice, and the
// person's name, data categories and jurisdiction (batched notices put substitution tags in
// place of the name and categories), and the reader's time zone.
type NoticeView struct {
	incident.NoticeContent
	IncidentID   string
	Drill        bool
	Name         string
	Categories   []string
	Jurisdiction string
	// Zone is the person's time zone (that of their jurisdiction): translations write their
	// dates in it, with UTC beside them. Empty is UTC.
	Zone string
}
