package incident

import (
	"time"

	"github.com/breachops/breach/internal/rules"
)

// NoticePlanInput asks how an alerts run covers a dataset from a position on.
type NoticePlanInput struct {
	IncidentID string          `json:"incident_id"`
	Dataset    DatasetRef      `json:"dataset"`
	From       DatasetPosition `json:"from"`
}

// NoticePlan is how an alerts run covers the dataset: SendNotices activities of RangeRows rows,
// Parallel of them at once, the i-th starting at Starts[i]. Without Starts, one chunk follows
// another, each starting where the last ended. It holds positions and counts only.
type NoticePlan struct {
	RangeRows int               `json:"range_rows,omitempty"`
	Parallel  int               `json:"parallel,omitempty"`
	Starts    []DatasetPosition `json:"starts,omitempty"`
	// Rows counts the data rows from the start.
	Rows int `json:"rows,omitempty"`
}

// NoticeFinishInput asks for the final account of an incident's customer alerts.
type NoticeFinishInput struct {
	IncidentID string     `json:"incident_id"`
	Dataset    DatasetRef `json:"dataset"`
}

// NoticeSummary is the ledger's account of an incident's customer alerts, over all its runs:
// counts, and where the list of people who may have been notified twice is.
type NoticeSummary struct {
	// Ledger is false on the outbox path, which keeps no ledger: the rest is then empty.
	Ledger bool `json:"ledger"`
	// Sent counts people notified (possibly duplicated included).
	Sent               int `json:"sent"`
	Rejected           int `json:"rejected"`
	Invalid            int `json:"invalid"`
	Duplicates         int `json:"duplicates"`
	PossiblyDuplicated int `json:"possibly_duplicated"`
	// AmbiguousBatches counts batches whose outcome was unknown at some point; FailedBatches
	// those left failed.
	AmbiguousBatches int `json:"ambiguous_batches"`
	FailedBatches    int `json:"failed_batches"`
	// List is the file naming the possibly duplicated people by subject key and dataset row.
	List string `json:"list,omitempty"`
}

// NoticeContent is the incident-wide part of the customer notice.
type NoticeContent struct {
	OrgName      string `json:"org_name"`
	From         string `json:"from"`
	Title        string `json:"title"`
	WhatHappened string `json:"what_happened"`
	Consequences string `json:"consequences,omitempty"`
	Measures     string `json:"measures,omitempty"`
	Advice       string `json:"advice,omitempty"`
	Contact      string `json:"contact"`
	// AwareAt is when the organisation discovered the breach.
	AwareAt time.Time `json:"aware_at"`
	// Routes say which notice each person receives: the first route covering the person's
	// jurisdiction. A person no route covers is not notified (no law requires it).
	Routes []NoticeRoute `json:"routes"`
	// Languages are the incident's language choices: each person gets the notice in their
	// language (the dataset's language column, else their country's). Nil: in English, in the
	// batches incidents declared before languages were chosen had.
	Languages *Languages `json:"languages,omitempty"`
}

// NoticeRoute is the notice one obligation requires, and whom it covers.
type NoticeRoute struct {
	Obligation string `json:"obligation"`
	Template   string `json:"template"`
	// Subjects are jurisdiction patterns (a code, EEA, US-*); empty covers everyone.
	Subjects []string `json:"subjects,omitempty"`
}

// Route returns the notice route for a person resident in jurisdiction, if any.
func (c NoticeContent) Route(jurisdiction string) (NoticeRoute, bool) {
	for _, r := range c.Routes {
		if (rules.Obligation{Subjects: r.Subjects}).Covers(jurisdiction) {
			return r, true
		}
	}
	return NoticeRoute{}, false
}

// NoticeChunkInput asks for the notices of the next MaxRows rows from Position.
type NoticeChunkInput struct {
	IncidentID string          `json:"incident_id"`
	Drill      bool            `json:"drill,omitempty"`
	Dataset    DatasetRef      `json:"dataset"`
	From       DatasetPosition `json:"from"`
	MaxRows    int             `json:"max_rows"`
	Notice     NoticeContent   `json:"notice"`
	// Rerun is set on a later alerts run of the incident: people may have been notified under
	// other batches, so each is looked up before sending (SendGrid path; the outbox is keyed by
	// address anyway).
	Rerun bool `json:"rerun,omitempty"`
}

// NoticeCounts counts what happened to rows.
type NoticeCounts struct {
	Rows        int `json:"rows"`
	Sent        int `json:"sent"`
	AlreadySent int `json:"already_sent"`
	Invalid     int `json:"invalid"`
	Duplicates  int `json:"duplicates"`
	Unusable    int `json:"unusable"`
	// NotCovered counts people no notice obligation covers (e.g. outside the laws that apply).
	NotCovered int `json:"not_covered"`
	// Rejected counts people SendGrid refused (a 400 isolated by splitting): not notified.
	Rejected int `json:"rejected,omitempty"`
	// PossiblyDuplicated counts people sent again after an unknown outcome, without Email
	// Activity to check whether the first request reached them.
	PossiblyDuplicated int `json:"possibly_duplicated,omitempty"`
	// Ambiguous counts batches whose last request had an unknown outcome and were reconciled.
	Ambiguous int `json:"ambiguous,omitempty"`
	// Languages counts the people given a notice, by the language it is written in;
	// Fallbacks those whose language has no translation of their notice's template, who got it
	// in English, by "template:language". Counted once per person as rows are read.
	Languages map[string]int `json:"languages,omitempty"`
	Fallbacks map[string]int `json:"fallbacks,omitempty"`
}

// Add adds o to c.
func (c *NoticeCounts) Add(o NoticeCounts) {
	c.Rows += o.Rows
	c.Sent += o.Sent
	c.AlreadySent += o.AlreadySent
	c.Invalid += o.Invalid
	c.Duplicates += o.Duplicates
	c.Unusable += o.Unusable
	c.NotCovered += o.NotCovered
	c.Rejected += o.Rejected
	c.PossiblyDuplicated += o.PossiblyDuplicated
	c.Ambiguous += o.Ambiguous
	c.Languages = addCounts(c.Languages, o.Languages)
	c.Fallbacks = addCounts(c.Fallbacks, o.Fallbacks)
}

// Clone returns a copy of c that shares no map with it.
func (c NoticeCounts) Clone() NoticeCounts {
	c.Languages = addCounts(nil, c.Languages)
	c.Fallbacks = addCounts(nil, c.Fallbacks)
	return c
}

// addCounts adds the counts of o to m, making m when there is something to add.
func addCounts(m, o map[string]int) map[string]int {
	if len(o) == 0 {
		return m
	}
	if m == nil {
		m = make(map[string]int, len(o))
	}
	for k, v := range o {
		m[k] += v
	}
	return m
}

// NoticeChunkResult says where the next chunk starts and what this one did.
type NoticeChunkResult struct {
	Next   DatasetPosition `json:"next"`
	Done   bool            `json:"done"`
	Counts NoticeCounts    `json:"counts"`
}
