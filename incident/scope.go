package incident

import "fmt"

// ScopeSummary is the scope of a dataset in counts only: safe for workflow history, logs and chat.
type ScopeSummary struct {
	// Rows is the number of data rows read.
	Rows int `json:"rows"`
	// Subjects is the number of distinct data subjects (duplicates excluded).
	Subjects int `json:"subjects"`
	// Records is the number of personal-data records: one per data category per subject.
	Records int `json:"records"`
	// Mailable is the number of distinct subjects with a valid email address.
	Mailable   int `json:"mailable"`
	Invalid    int `json:"invalid_addresses"`
	Duplicates int `json:"duplicates"`
	Unusable   int `json:"unusable_rows"`
	// ByJurisdiction counts subjects by ISO country code, or US-XX for US states.
	ByJurisdiction map[string]int `json:"by_jurisdiction"`
	// MailableByJurisdiction counts the subjects with a usable address, by jurisdiction.
	MailableByJurisdiction map[string]int `json:"mailable_by_jurisdiction"`
	// ByCategory counts subjects by data category, each a word of the vocabulary
	// (rules.Categories); values outside it count as other.
	ByCategory map[string]int `json:"by_category"`
	// IssueCounts counts the issues by kind; Issues lists the first 200 (subjects.MaxListedIssues), by line:
	// the rows' problems and notes (an unknown data category).
	IssueCounts map[string]int `json:"issue_counts,omitempty"`
	Issues      []ScopeIssue   `json:"issues,omitempty"`
	// SHA256 and Bytes identify the exact dataset the counts describe.
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Kinds of ScopeIssue.
const (
	IssueMissingValue        = "missing-value"
	IssueMissingColumns      = "missing-columns"
	IssueInvalidEmail        = "invalid-email"
	IssueInvalidJurisdiction = "invalid-jurisdiction"
	IssueDuplicate           = "duplicate-subject"
	IssueMalformed           = "malformed-row"
	// IssueFieldTooLong: a value of a column the reader uses is longer than Limits.MaxField.
	IssueFieldTooLong = "field-too-long"
	// IssueUnknownCategory: data_categories holds a value outside the vocabulary; it is
	// counted as other. A note, not a problem: the row stays usable.
	IssueUnknownCategory = "unknown-category"
)

// ScopeIssue is a problem found on one line. It carries no personal data.
type ScopeIssue struct {
	Row    int    `json:"row"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Column string `json:"column,omitempty"`
}

// String is the issue as a person reads it: the line, the kind and the column.
func (i ScopeIssue) String() string {
	if i.Column != "" {
		return fmt.Sprintf("line %d: %s (%s)", i.Line, i.Kind, i.Column)
	}
	return fmt.Sprintf("line %d: %s", i.Line, i.Kind)
}

// DatasetPosition is where a reader stands in a dataset: enough to resume reading there.
type DatasetPosition struct {
	Offset int64 `json:"offset"` // byte offset of the next row
	Line   int   `json:"line"`   // line number of the next row
	Index  int   `json:"index"`  // data rows before the next row
}
