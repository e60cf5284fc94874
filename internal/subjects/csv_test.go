package subjects_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
)

const header = "id,email,name,country,state,data_categories\n"

// readAll reads every row of data, failing the test on any error but io.EOF.
func readAll(t *testing.T, data string, seen *subjects.Seen) []subjects.Row {
	t.Helper()
	rd, err := subjects.NewReader(strings.NewReader(data), seen)
	require.NoError(t, err)
	var rows []subjects.Row
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		require.NoError(t, err)
		rows = append(rows, row)
	}
}

func TestReaderParsesAliasesBOMCRLFAndQuoting(t *testing.T) {
	data := "\ufeffSubject_ID, E-Mail ,Full_Name,Country_Code,Region,Categories\r\n" +
		"S1,ana@example.com,\"Doe, Ana\",de,,Contact;address\r\n" +
		"S2,bo@example.com,\"Bo \"\"the kid\"\" Li\",us,ca, contact | Financial ;\r\n" +
		"S3,cy@example.com,\"Cy\r\nSecond line\",US,US-NY,\r\n" +
		"\r\n" +
		"S4,di@example.com,Di,FR,,\r\n"

	rows := readAll(t, data, subjects.NewSeen())

	want := []subjects.Row{
		{Index: 1, Line: 2, ID: "S1", Email: "ana@example.com", Name: "Doe, Ana", Jurisdiction: "DE", Categories: []string{"contact", "address"}},
		{Index: 2, Line: 3, ID: "S2", Email: "bo@example.com", Name: `Bo "the kid" Li`, Jurisdiction: "US-CA", Categories: []string{"contact", "financial"}},
		{Index: 3, Line: 4, ID: "S3", Email: "cy@example.com", Name: "Cy\nSecond line", Jurisdiction: "US-NY"},
		{Index: 4, Line: 7, ID: "S4", Email: "di@example.com", Name: "Di", Jurisdiction: "FR"},
	}
	assert.Equal(t, want, rows)
}

func TestReaderQuotedBOMHeader(t *testing.T) {
	// Spreadsheet exports quote every field, the header included, after the byte order mark.
	rows := readAll(t, "\ufeff\"id\",\"email\",\"country\"\n\"S1\",\"a@example.com\",\"DE\"\n", nil)
	require.Len(t, rows, 1)
	assert.Equal(t, "S1", rows[0].ID)
	assert.Equal(t, 2, rows[0].Line)
	assert.Nil(t, rows[0].Problem)
}

func TestReaderCategoriesListedTwiceAreOneRecord(t *testing.T) {
	data := header + "S1,a@example.com,A,DE,,contact;Contact;address;contact\n"
	rows := readAll(t, data, nil)
	require.Len(t, rows, 1)
	assert.Equal(t, []string{"contact", "address"}, rows[0].Categories)

	s, err := subjects.Scan(strings.NewReader(data), nil)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Records)
	assert.Equal(t, map[string]int{"contact": 1, "address": 1}, s.ByCategory)
}

type counts struct {
	Rows, Subjects, Mailable, Invalid, Duplicates, Unusable int
}

func countsOf(s subjects.Summary) counts {
	return counts{Rows: s.Rows, Subjects: s.Subjects, Mailable: s.Mailable, Invalid: s.Invalid, Duplicates: s.Duplicates, Unusable: s.Unusable}
}

func TestBadRows(t *testing.T) {
	tests := []struct {
		name   string
		body   string // after the header, which is line 1
		issues []subjects.Issue
		counts counts
	}{
		{
			name:   "short row",
			body:   "S1,a@example.com,Ann\n",
			issues: []subjects.Issue{{Row: 1, Line: 2, Kind: subjects.IssueMissingColumns, Column: "country,state,data_categories"}},
			counts: counts{Rows: 1, Unusable: 1},
		},
		{
			name: "short row after a quoted field with newlines",
			body: "S1,a@example.com,\"Ann\nof\nGreen Gables\",CA,,\nS2,b@example.com\nS3,c@example.com,C,DE,,\n",
			issues: []subjects.Issue{
				{Row: 2, Line: 5, Kind: subjects.IssueMissingColumns, Column: "name,country,state,data_categories"},
			},
			counts: counts{Rows: 3, Subjects: 2, Mailable: 2, Unusable: 1},
		},
		{
			name:   "invalid email",
			body:   "S1,ann.example.com,Ann,DE,,contact\nS2,b@example.com,B,DE,,contact\n",
			issues: []subjects.Issue{{Row: 1, Line: 2, Kind: subjects.IssueInvalidEmail, Column: "email"}},
			counts: counts{Rows: 2, Subjects: 2, Mailable: 1, Invalid: 1},
		},
		{
			name:   "email with a display name",
			body:   "S1,Ann <a@example.com>,Ann,DE,,\n",
			issues: []subjects.Issue{{Row: 1, Line: 2, Kind: subjects.IssueInvalidEmail, Column: "email"}},
			counts: counts{Rows: 1, Subjects: 1, Invalid: 1},
		},
		{
			name: "empty emails are not duplicates of each other",
			body: "S1,,Ann,DE,,\nS2, ,Bob,DE,,\n",
			issues: []subjects.Issue{
				{Row: 1, Line: 2, Kind: subjects.IssueMissingValue, Column: "email"},
				{Row: 2, Line: 3, Kind: subjects.IssueMissingValue, Column: "email"},
			},
			counts: counts{Rows: 2, Subjects: 2, Invalid: 2},
		},
		{
			name:   "missing id",
			body:   " ,a@example.com,Ann,DE,,\n",
			issues: []subjects.Issue{{Row: 1, Line: 2, Kind: subjects.IssueMissingValue, Column: "id"}},
			counts: counts{Rows: 1, Unusable: 1},
		},
		{
			name:   "missing country",
			body:   "S1,a@example.com,Ann,,,\n",
			issues: []subjects.Issue{{Row: 1, Line: 2, Kind: subjects.IssueMissingValue, Column: "country"}},
			counts: counts{Rows: 1, Unusable: 1},
		},
		{
			name: "invalid jurisdictions",
			body: "S1,a@example.com,A,USA,,\nS2,b@example.com,B,D1,,\nS3,c@example.com,C,US,California,\nS4,d@example.com,D,DE-BY,,\n" +
				"S5,e@example.com,E,DE,BY,\nS6,f@example.com,F,UK,,\nS7,g@example.com,G,US,ZZ,\n",
			issues: []subjects.Issue{
				{Row: 1, Line: 2, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
				{Row: 2, Line: 3, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
				{Row: 3, Line: 4, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
				{Row: 4, Line: 5, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
				{Row: 6, Line: 7, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
				{Row: 7, Line: 8, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
			},
			// A state outside the US is ignored: DE with BY is Germany. UK is not ISO 3166 (GB is).
			counts: counts{Rows: 7, Subjects: 1, Mailable: 1, Unusable: 6},
		},
		{
			name: "duplicate id",
			body: "S1,a@example.com,A,DE,,\nS1,b@example.com,B,DE,,\nS1,c@example.com,C,DE,,\n",
			issues: []subjects.Issue{
				{Row: 2, Line: 3, Kind: subjects.IssueDuplicate},
				{Row: 3, Line: 4, Kind: subjects.IssueDuplicate},
			},
			counts: counts{Rows: 3, Subjects: 1, Mailable: 1, Duplicates: 2},
		},
		{
			name:   "duplicate email in mixed case",
			body:   "S1,ann@example.com,A,DE,,\nS2,Ann@Example.COM,A,DE,,\n",
			issues: []subjects.Issue{{Row: 2, Line: 3, Kind: subjects.IssueDuplicate}},
			counts: counts{Rows: 2, Subjects: 1, Mailable: 1, Duplicates: 1},
		},
		{
			name:   "duplicate id with an invalid email is counted once, as a duplicate",
			body:   "S1,ann@example.com,A,DE,,\nS1,not-an-address,A,DE,,\n",
			issues: []subjects.Issue{{Row: 2, Line: 3, Kind: subjects.IssueDuplicate}},
			counts: counts{Rows: 2, Subjects: 1, Mailable: 1, Duplicates: 1},
		},
		{
			name:   "unusable row does not claim its id",
			body:   "S1,ann@example.com,A,XX1,,\nS1,ann@example.com,A,DE,,\n",
			issues: []subjects.Issue{{Row: 1, Line: 2, Kind: subjects.IssueInvalidJurisdiction, Column: "country"}},
			counts: counts{Rows: 2, Subjects: 1, Mailable: 1, Unusable: 1},
		},
		{
			name: "line numbers after quoted newlines, CRLF and blank lines",
			body: "S1,a@example.com,\"A\r\n\r\nA\",DE,,\r\n\r\n  \r\nS2,bad,B,DE,,\r\n",
			issues: []subjects.Issue{
				{Row: 2, Line: 7, Kind: subjects.IssueInvalidEmail, Column: "email"},
			},
			counts: counts{Rows: 2, Subjects: 2, Mailable: 1, Invalid: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := header + tt.body

			s, err := subjects.Scan(strings.NewReader(data), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.counts, countsOf(s))
			assert.Equal(t, tt.issues, s.Issues)
			kinds := map[string]int{}
			for _, is := range tt.issues {
				kinds[is.Kind]++
			}
			assert.Equal(t, kinds, s.IssueCounts)

			// The reader reports the same problems on the rows themselves.
			var got []subjects.Issue
			for _, row := range readAll(t, data, subjects.NewSeen()) {
				if row.Problem != nil {
					got = append(got, *row.Problem)
					assert.Equal(t, row.Line, row.Problem.Line)
					assert.Equal(t, row.Index, row.Problem.Row)
				}
			}
			assert.Equal(t, tt.issues, got)
		})
	}
}

func TestInvalidEmailIsASubjectButNotMailable(t *testing.T) {
	rows := readAll(t, header+"S1,ann.example.com,Ann,DE,,contact\nS2,,Bob,DE,,\nS3,c@example.com,C,XX1,,\n", nil)
	require.Len(t, rows, 3)
	assert.True(t, rows[0].IsSubject())
	assert.False(t, rows[0].Mailable())
	assert.True(t, rows[1].IsSubject())
	assert.False(t, rows[1].Mailable())
	assert.False(t, rows[2].IsSubject())
	assert.False(t, rows[2].Mailable())
}

func TestReaderWithoutSeenReportsNoDuplicates(t *testing.T) {
	rows := readAll(t, header+"S1,a@example.com,A,DE,,\nS1,a@example.com,A,DE,,\n", nil)
	require.Len(t, rows, 2)
	assert.Nil(t, rows[1].Problem)
}

func TestManyBlankLinesDoNotGrowTheStack(t *testing.T) {
	// Blank lines were once skipped by recursion: enough of them overflowed the stack, a fatal
	// error no recover() catches. A small stack limit makes that show with a small file.
	defer debug.SetMaxStack(debug.SetMaxStack(4 << 20))
	data := header + strings.Repeat(" \r\n", 200000) + "S1,a@example.com,A,DE,,\n"
	rows := readAll(t, data, nil)
	require.Len(t, rows, 1)
	assert.Equal(t, 200002, rows[0].Line)
}

func TestIssueStringHoldsNoContent(t *testing.T) {
	assert.Equal(t, "line 7: invalid-email (email)", subjects.Issue{Row: 3, Line: 7, Kind: subjects.IssueInvalidEmail, Column: "email"}.String())
	assert.Equal(t, "line 4: duplicate-subject", subjects.Issue{Row: 2, Line: 4, Kind: subjects.IssueDuplicate}.String())
}

func TestHeaderErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		missing string // the column a *MissingColumnError names; "" for other errors
		errHas  string
	}{
		{name: "no id", data: "email,name,country\n", missing: "id"},
		{name: "no email", data: "customer_id,name,jurisdiction\n", missing: "email"},
		{name: "no country", data: "\ufeffid,email,name,state\nS1,a@example.com,A,CA\n", missing: "country"},
		{name: "empty file", data: "", errHas: "empty"},
		{name: "only a byte order mark", data: "\ufeff", errHas: "empty"},
		{name: "only blank lines", data: "\n\r\n\n", errHas: "empty"},
		{name: "bad quoting in header", data: "id,\"email,country\n", errHas: "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := subjects.NewReader(strings.NewReader(tt.data), nil)
			require.Error(t, err)
			_, scanErr := subjects.Scan(strings.NewReader(tt.data), nil)
			require.Error(t, scanErr)
			var mce *subjects.MissingColumnError
			if tt.missing != "" {
				require.ErrorAs(t, err, &mce)
				assert.Equal(t, tt.missing, mce.Column)
				assert.Contains(t, err.Error(), `"`+tt.missing+`"`)
				require.ErrorAs(t, scanErr, &mce)
				return
			}
			assert.False(t, errors.As(err, &mce))
			assert.Contains(t, err.Error(), tt.errHas)
		})
	}
}

func TestMissingColumnErrorNamesColumnsByOurNamesAndPositions(t *testing.T) {
	_, err := subjects.NewReader(strings.NewReader("ID,Mail,Country,Notes\n"), nil)
	var mce *subjects.MissingColumnError
	require.ErrorAs(t, err, &mce)
	assert.Equal(t, "email", mce.Column)
	assert.Equal(t, []string{"id (column 1)", "country (column 3)"}, mce.Found)
	assert.Equal(t, 4, mce.Fields)
	assert.Equal(t, `subjects dataset line 1: required column "email" (or email_address, e-mail) is missing from the header row; `+
		`it names id (column 1), country (column 3), and 2 columns this reader does not use. `+
		`The first line must be a header row naming the columns, e.g. id,email,name,country,state,data_categories; add the column, or rename the one that holds it`,
		err.Error())
}

// A dataset without a header row, or with CR line endings (one long line to a CSV reader), has
// a customer's data where the header should be; no error, and no summary, quotes any of it.
func TestNoErrorQuotesACell(t *testing.T) {
	people := [][]string{
		{"C1001", "lea.weber@example.net", "Léa Weber", "DE", "", "address;IBAN DE89370400440532013000"},
		{"C1002", "jonas.jones@example.net", "Jonas Jones", "GB", "", "born 1984-02-29"},
		{"C1003", "amelia.garcia@example.net", "Amelia García", "US", "CA", "contact"},
	}
	rows := func(sep string) string {
		var b strings.Builder
		for _, p := range people {
			b.WriteString(strings.Join(p, ",") + sep)
		}
		return b.String()
	}
	tests := []struct {
		name string
		data string
	}{
		{"no header row", rows("\n")},
		{"no header row, CRLF", rows("\r\n")},
		{"CR line endings", exampleHeaderRow + "\r" + rows("\r")},
		{"CR line endings, no header row", rows("\r")},
		{"a header without the email column", "id,name,country,state,data_categories\n" + rows("\n")},
		{"a header naming a cell", "C1001,lea.weber@example.net,Léa Weber\n" + rows("\n")},
		{"no header row, quoted", `"C1001","lea.weber@example.net","Léa Weber","DE"` + "\n"},
		{"the header row too long", strings.Repeat("lea.weber@example.net,", subjects.DefaultMaxRecord/20) + "\n"},
		{"a quote never closed", exampleHeaderRow + "\n" + `C1001,"lea.weber@example.net,Léa Weber,DE` + "\n" + rows("\n")},
		{"a bare quote", exampleHeaderRow + "\n" + `C1001,lea.weber@example.net,Léa "Weber,DE` + "\n"},
		{"free-text categories", exampleHeaderRow + "\n" + rows("\n")},
		{"a field past the limit", exampleHeaderRow + "\n" + rows("\n") + "C1004,x@example.net," + strings.Repeat("Léa Weber ", 2000) + ",DE,,\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var texts []string
			s, err := subjects.Scan(strings.NewReader(tt.data), func(is subjects.Issue) error {
				texts = append(texts, is.String())
				return nil
			})
			if err != nil {
				texts = append(texts, err.Error())
			} else {
				j, jerr := json.Marshal(s)
				require.NoError(t, jerr)
				texts = append(texts, string(j))
			}
			for _, text := range texts {
				for _, p := range people {
					for _, cell := range p {
						// Country codes and category words are our own vocabulary.
						if len(cell) > 2 && !rules.KnownCategory(cell) {
							assert.NotContains(t, text, cell, "the text quotes a cell")
						}
					}
				}
				for _, part := range []string{"lea.weber", "Weber", "IBAN", "DE89", "1984", "born"} {
					assert.NotContains(t, text, part)
				}
			}
			t.Log(texts)
		})
	}
}

const exampleHeaderRow = "id,email,name,country,state,data_categories"

func TestCRLineEndingsAreNamed(t *testing.T) {
	_, err := subjects.NewReader(strings.NewReader(exampleHeaderRow+"\rS1,a@example.com,A,DE,,\r"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CR line endings")
	assert.Contains(t, err.Error(), "line 1")
}

func TestHeaderOnlyDataset(t *testing.T) {
	s, err := subjects.Scan(strings.NewReader(header), nil)
	require.NoError(t, err)
	assert.Equal(t, counts{}, countsOf(s))
	assert.Equal(t, int64(len(header)), s.Bytes)
}

func TestQuotingErrorNamesTheLine(t *testing.T) {
	tests := []struct {
		name string
		body string
		line string
	}{
		{name: "bare quote", body: "S1,a@example.com,An\"n,DE,,\n", line: "line 2:"},
		{name: "text after closing quote", body: "S1,a@example.com,\"Ann\"x,DE,,\n", line: "line 2:"},
		{
			name: "after a quoted field with newlines",
			body: "S1,a@example.com,\"Ann\nB\",DE,,\nS2,b@example.com,\"B\"b,DE,,\n",
			line: "line 4:",
		},
		{name: "unterminated quote", body: "S1,a@example.com,A,DE,,\nS2,\"b@example.com,B,DE,,\nS3,c@example.com,C,DE,,\n", line: "line 3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := subjects.Scan(strings.NewReader(header+tt.body), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "subjects dataset "+tt.line)
			assert.Contains(t, err.Error(), "quot")
			// The message names the line, never the content.
			assert.NotContains(t, err.Error(), "example.com")
		})
	}
}

func TestScanSummary(t *testing.T) {
	data := []byte("\ufeffid,email,name,country,state,data_categories\r\n" +
		"S1,a@example.com,A,DE,,contact;address\r\n" +
		"S2,b@example.com,B,US,CA,contact\r\n" +
		"S3,c@example.com,\"C,\r\nthe third\",us,ca,payment;contact;address\r\n" +
		"S4,d@example.com,D,US,,\r\n" +
		"S5,not-mail,E,FR,,address\r\n" +
		"S6,B@EXAMPLE.COM,F,FR,,contact\r\n" +
		"S7,g@example.com,G,ZZZ,,contact\r\n" +
		"S8,h@example.com\r\n")
	var seen []subjects.Issue
	s, err := subjects.Scan(bytes.NewReader(data), func(is subjects.Issue) error {
		seen = append(seen, is)
		return nil
	})
	require.NoError(t, err)

	assert.Equal(t, counts{Rows: 8, Subjects: 5, Mailable: 4, Invalid: 1, Duplicates: 1, Unusable: 2}, countsOf(s))
	// S4 has no categories: one record. S5 is a subject although its address is unusable.
	assert.Equal(t, 2+1+3+1+1, s.Records)
	assert.Equal(t, map[string]int{"DE": 1, "US-CA": 2, "US": 1, "FR": 1}, s.ByJurisdiction)
	// payment is not a category of the vocabulary: it counts as other, and its line is noted.
	assert.Equal(t, map[string]int{"contact": 3, "address": 3, "other": 1}, s.ByCategory)
	assert.Equal(t, map[string]int{
		subjects.IssueUnknownCategory:     1,
		subjects.IssueInvalidEmail:        1,
		subjects.IssueDuplicate:           1,
		subjects.IssueInvalidJurisdiction: 1,
		subjects.IssueMissingColumns:      1,
	}, s.IssueCounts)
	assert.Equal(t, []subjects.Issue{
		{Row: 3, Line: 4, Kind: subjects.IssueUnknownCategory, Column: "data_categories"},
		{Row: 5, Line: 7, Kind: subjects.IssueInvalidEmail, Column: "email"},
		{Row: 6, Line: 8, Kind: subjects.IssueDuplicate},
		{Row: 7, Line: 9, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
		{Row: 8, Line: 10, Kind: subjects.IssueMissingColumns, Column: "name,country,state,data_categories"},
	}, s.Issues)
	assert.Equal(t, s.Issues, seen)

	sum := sha256.Sum256(data)
	assert.Equal(t, hex.EncodeToString(sum[:]), s.SHA256)
	assert.Equal(t, int64(len(data)), s.Bytes)
}

func TestScanHashesTheWholeFileEvenAfterTheLastRow(t *testing.T) {
	// The summary identifies the exact bytes, trailing blank lines included.
	a, err := subjects.Scan(strings.NewReader(header+"S1,a@example.com,A,DE,,\n"), nil)
	require.NoError(t, err)
	b, err := subjects.Scan(strings.NewReader(header+"S1,a@example.com,A,DE,,\n\n\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, countsOf(a), countsOf(b))
	assert.NotEqual(t, a.SHA256, b.SHA256)
	assert.Equal(t, a.Bytes+2, b.Bytes)
}

func TestScanListsAtMostMaxListedIssuesButCountsAll(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	n := subjects.MaxListedIssues + 25
	for i := 0; i < n; i++ {
		b.WriteString("S,a@example.com,A,XX1,,\n") // every row an invalid jurisdiction
	}
	calls := 0
	s, err := subjects.Scan(strings.NewReader(b.String()), func(subjects.Issue) error { calls++; return nil })
	require.NoError(t, err)
	assert.Len(t, s.Issues, subjects.MaxListedIssues)
	assert.Equal(t, n, s.IssueCounts[subjects.IssueInvalidJurisdiction])
	assert.Equal(t, n, s.Unusable)
	assert.Equal(t, n, calls)
	assert.Equal(t, subjects.Issue{Row: subjects.MaxListedIssues, Line: subjects.MaxListedIssues + 1, Kind: subjects.IssueInvalidJurisdiction, Column: "country"},
		s.Issues[len(s.Issues)-1])
}

func TestScanStopsWhenOnIssueFails(t *testing.T) {
	stop := errors.New("stop")
	_, err := subjects.Scan(strings.NewReader(header+"S1,bad,A,DE,,\n"), func(subjects.Issue) error { return stop })
	assert.ErrorIs(t, err, stop)
}

func TestScanExampleDataset(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "subjects.csv"))
	require.NoError(t, err)
	s, err := subjects.Scan(bytes.NewReader(data), nil)
	require.NoError(t, err)
	assert.Equal(t, s.Rows, s.Subjects+s.Duplicates+s.Unusable)
	assert.Equal(t, s.Subjects, s.Mailable+s.Invalid)
	assert.Positive(t, s.ByJurisdiction["US-CA"])
	assert.Equal(t, int64(len(data)), s.Bytes)
}

// resumeData has a byte order mark, CRLF, blank lines, quoted fields spanning lines (one of them
// the last field of its row) and problem rows.
const resumeData = "\ufeffid,email,name,country,state,data_categories\r\n" +
	"S1,a@example.com,A,DE,,contact\r\n" +
	"S2,b@example.com,\"B\r\nsecond\r\nthird\",US,CA,contact\r\n" +
	"\r\n" +
	"S3,c@example.com,C,FR,,\"contact;\naddress\"\r\n" +
	"S4,A@example.com,D,DE,,\r\n" +
	"S5,bad,E,DE,,\r\n" +
	"\r\n" +
	"\r\n" +
	"S6,f@example.com,\"F, \"\"Jr\"\"\",IT,,\r\n" +
	"S7,g@example.com\r\n" +
	"S8,h@example.com,H,NL,,payment"

func TestResumeMatchesReadingStraightThrough(t *testing.T) {
	all := readAll(t, resumeData, nil)
	require.Len(t, all, 8)
	assert.Equal(t, []int{2, 3, 7, 9, 10, 13, 14, 15}, linesOf(all))

	for n := 0; n <= len(all); n++ {
		rd, err := subjects.NewReader(strings.NewReader(resumeData), nil)
		require.NoError(t, err)
		for i := 0; i < n; i++ {
			_, err := rd.Next()
			require.NoError(t, err)
		}
		pos := rd.Position()
		assert.Equal(t, n, pos.Index)

		rest := subjects.Resume(strings.NewReader(resumeData[pos.Offset:]), rd.Header(), pos, nil)
		var got []subjects.Row
		for {
			row, err := rest.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "resume after %d rows at %+v", n, pos)
			got = append(got, row)
		}
		if n == len(all) {
			assert.Empty(t, got)
			continue
		}
		assert.Equal(t, all[n:], got, "resume after %d rows at %+v", n, pos)
	}
}

func TestResumePositionAfterMultiLineField(t *testing.T) {
	rd, err := subjects.NewReader(strings.NewReader(resumeData), nil)
	require.NoError(t, err)
	start := rd.Position()
	assert.Equal(t, subjects.Position{Offset: int64(strings.Index(resumeData, "S1,")), Line: 2, Index: 0}, start)
	for i := 0; i < 2; i++ {
		_, err := rd.Next()
		require.NoError(t, err)
	}
	// After S2, whose name spans lines 3 to 5, the next row starts on line 6 (a blank one).
	assert.Equal(t, subjects.Position{Offset: int64(strings.Index(resumeData, "\r\n\r\nS3")) + 2, Line: 6, Index: 2}, rd.Position())
}

func TestResumeKeepsDetectingDuplicates(t *testing.T) {
	seen := subjects.NewSeen()
	rd, err := subjects.NewReader(strings.NewReader(resumeData), seen)
	require.NoError(t, err)
	_, err = rd.Next()
	require.NoError(t, err)
	pos := rd.Position()

	rest := subjects.Resume(strings.NewReader(resumeData[pos.Offset:]), rd.Header(), pos, seen)
	var dups []int
	for {
		row, err := rest.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if row.Problem != nil && row.Problem.Kind == subjects.IssueDuplicate {
			dups = append(dups, row.Index)
		}
	}
	// S4's address is S1's in another case; S1 was read before the resume.
	assert.Equal(t, []int{4}, dups)
}

func linesOf(rows []subjects.Row) []int {
	var out []int
	for _, r := range rows {
		out = append(out, r.Line)
	}
	return out
}

// generated is a dataset made on the fly: head, then body repeated up to n bytes, then tail.
// It counts what was read of it.
type generated struct {
	head, body, tail string
	n, read          int64
}

func (g *generated) Read(p []byte) (int, error) {
	total := int64(len(g.head)) + g.n + int64(len(g.tail))
	if g.read >= total {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && g.read < total {
		switch off := g.read; {
		case off < int64(len(g.head)):
			p[k] = g.head[off]
		case off < int64(len(g.head))+g.n:
			p[k] = g.body[(off-int64(len(g.head)))%int64(len(g.body))]
		default:
			p[k] = g.tail[off-int64(len(g.head))-g.n]
		}
		k++
		g.read++
	}
	return k, nil
}

// One 200 MiB field once allocated about 1.5 GB. The reader now stops at the record limit,
// having read little more than it, and allocates a bounded amount whatever the field's size.
func TestHugeRecordsStopAtTheLimitWithBoundedMemory(t *testing.T) {
	const huge = 64 << 20
	tests := []struct {
		name string
		g    *generated
		line int
	}{
		{"a quoted field", &generated{head: header + "S1,a@example.com,A,DE,,\nS2,b@example.com,\"", body: "Léa Weber ", n: huge, tail: "\",DE,,\n"}, 3},
		{"a quoted field of many lines", &generated{head: header + "S1,a@example.com,\"", body: "Léa\r\nWeber\n", n: huge, tail: "\",DE,,\n"}, 2},
		{"a line without an end", &generated{head: header, body: "lea.weber@example.net,", n: huge, tail: "\n"}, 2},
		{"the header", &generated{head: "id,email,", body: "name,", n: huge, tail: "\n"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := subjects.Scan(tt.g, nil)
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, subjects.ErrRecordTooLong)
			assert.Contains(t, err.Error(), fmt.Sprintf("line %d:", tt.line))
			assert.Contains(t, err.Error(), "64 KiB")
			assert.NotContains(t, err.Error(), "Weber")
			assert.Less(t, tt.g.read, int64(1<<20), "bytes read of a %d-byte dataset", huge)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "bytes allocated")
		})
	}
}

func TestRecordLimitBoundary(t *testing.T) {
	lim := subjects.Limits{MaxRecord: 256, MaxField: 64}
	row := func(n int) string { // a row of exactly n bytes, its "\n" included
		r := "S1,a@example.com,"
		return r + strings.Repeat("x", n-len(r)-len(",DE,,\n")) + ",DE,,\n"
	}
	// Fields longer than MaxField are a row problem, not a reader error: the name column here
	// is not one of the header's, so only the record limit applies.
	hdr := "id,email,notes,country,state,data_categories\n"
	tests := []struct {
		name    string
		data    string
		tooLong bool
	}{
		{"a row at the limit", hdr + row(256), false},
		{"a row one byte over", hdr + row(257), true},
		{"the last row at the limit without its line end", hdr + strings.TrimSuffix(row(257), "\n"), false},
		{"the last row one over without its line end", hdr + strings.TrimSuffix(row(258), "\n"), true},
		{"a row at the limit with CRLF", hdr + strings.TrimSuffix(row(255), "\n") + "\r\n", false},
		{"many rows at the limit", hdr + strings.Repeat(row(256), 100), false},
		{"blank lines before a row count with it", hdr + strings.Repeat("\n", 200) + row(100), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := lim.Scan(strings.NewReader(tt.data), nil)
			if tt.tooLong {
				require.ErrorIs(t, err, subjects.ErrRecordTooLong)
				assert.Contains(t, err.Error(), "line 2:")
				assert.Contains(t, err.Error(), "256 bytes")
				return
			}
			require.NoError(t, err)
			assert.Positive(t, s.Rows)
			assert.Zero(t, s.Unusable, "issues: %v", s.Issues)
		})
	}
}

func TestFieldLimit(t *testing.T) {
	lim := subjects.Limits{MaxRecord: 4096, MaxField: 100}
	long := strings.Repeat("y", 101)
	hdr := "id,email,name,country,state,data_categories,notes\n"
	tests := []struct {
		name    string
		row     string
		problem *subjects.Issue
		counts  counts
	}{
		{"a name at the limit", "S1,a@example.com," + long[1:] + ",DE,,contact," + long + long, nil, counts{Rows: 1, Subjects: 1, Mailable: 1}},
		{"a name over the limit", "S1,a@example.com," + long + ",DE,,contact,", &subjects.Issue{Row: 1, Line: 2, Kind: subjects.IssueFieldTooLong, Column: "name"}, counts{Rows: 1, Unusable: 1}},
		{"an address over the limit", "S1," + long + "@example.com,A,DE,,,", &subjects.Issue{Row: 1, Line: 2, Kind: subjects.IssueFieldTooLong, Column: "email"}, counts{Rows: 1, Unusable: 1}},
		{"two columns over", long + ",a@example.com,A,DE,," + long + ",", &subjects.Issue{Row: 1, Line: 2, Kind: subjects.IssueFieldTooLong, Column: "id,data_categories"}, counts{Rows: 1, Unusable: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := hdr + tt.row + "\n"
			s, err := lim.Scan(strings.NewReader(data), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.counts, countsOf(s))
			rd, err := lim.NewReader(strings.NewReader(data), nil)
			require.NoError(t, err)
			row, err := rd.Next()
			require.NoError(t, err)
			assert.Equal(t, tt.problem, row.Problem)
			if tt.problem != nil {
				assert.Empty(t, row.Email+row.Name+row.ID, "a row past the limit keeps no values")
			}
		})
	}
}

func TestLimitsCheck(t *testing.T) {
	tests := []struct {
		lim  subjects.Limits
		want string
	}{
		{subjects.Limits{}, ""},
		{subjects.DefaultLimits, ""},
		{subjects.Limits{MaxRecord: 1 << 10}, ""}, // the field limit follows a smaller record limit
		{subjects.Limits{MaxRecord: 1 << 10, MaxField: 2 << 10}, "above the record limit"},
		{subjects.Limits{MaxRecord: subjects.MaxRecordLimit + 1}, "at most"},
	}
	for _, tt := range tests {
		err := tt.lim.Check()
		if tt.want == "" {
			assert.NoError(t, err, "%+v", tt.lim)
			continue
		}
		assert.ErrorContains(t, err, tt.want, "%+v", tt.lim)
		_, err = tt.lim.NewReader(strings.NewReader(header), nil)
		assert.ErrorContains(t, err, tt.want)
	}
}

// A resumed reader keeps the limits of the reader that read the header.
func TestResumeKeepsTheLimits(t *testing.T) {
	lim := subjects.Limits{MaxRecord: 128, MaxField: 64}
	data := header + "S1,a@example.com,A,DE,,\nS2,b@example.com," + strings.Repeat("b", 200) + ",DE,,\n"
	rd, err := lim.NewReader(strings.NewReader(data), nil)
	require.NoError(t, err)
	_, err = rd.Next()
	require.NoError(t, err)
	pos := rd.Position()
	rest := subjects.Resume(strings.NewReader(data[pos.Offset:]), rd.Header(), pos, nil)
	_, err = rest.Next()
	require.ErrorIs(t, err, subjects.ErrRecordTooLong)
	assert.Contains(t, err.Error(), "line 3:")
	_, again := rest.Next()
	assert.Equal(t, err, again, "the reader cannot go on past a record too long")
}

func TestUnknownCategoriesCountAsOtherAndAreNotedByLine(t *testing.T) {
	data := header +
		"S1,a@example.com,A,DE,,Contact;IBAN DE89370400440532013000|born 1984-02-29\n" +
		"S2,b@example.com,B,DE,,health;HEALTH\n" +
		"S3,c@example.com,C,DE,,other\n"
	rows := readAll(t, data, nil)
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"contact", "other"}, rows[0].Categories)
	assert.Equal(t, &subjects.Issue{Row: 1, Line: 2, Kind: subjects.IssueUnknownCategory, Column: "data_categories"}, rows[0].Note)
	assert.Nil(t, rows[0].Problem, "an unknown category leaves the row usable")
	assert.True(t, rows[0].Mailable())
	assert.Nil(t, rows[1].Note)
	assert.Equal(t, []string{"health"}, rows[1].Categories)
	assert.Nil(t, rows[2].Note, "other is a word of the vocabulary")

	s, err := subjects.Scan(strings.NewReader(data), nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"contact": 1, "other": 2, "health": 1}, s.ByCategory)
	assert.Equal(t, []subjects.Issue{{Row: 1, Line: 2, Kind: subjects.IssueUnknownCategory, Column: "data_categories"}}, s.Issues)
	assert.Equal(t, counts{Rows: 3, Subjects: 3, Mailable: 3}, countsOf(s))
	for c := range s.ByCategory {
		assert.True(t, rules.KnownCategory(c), "category %q", c)
	}
}

func TestHeaderErrorsNameTheHeadersLine(t *testing.T) {
	_, err := subjects.NewReader(strings.NewReader("\n\nid,name,country\n"), nil)
	var mce *subjects.MissingColumnError
	require.ErrorAs(t, err, &mce)
	assert.Equal(t, 3, mce.Line)
	assert.Contains(t, err.Error(), "subjects dataset line 3: required column \"email\"")
	_, err = subjects.NewReader(strings.NewReader("\nid,email,country\rS1,a@example.com,DE\r"), nil)
	assert.ErrorContains(t, err, "subjects dataset line 2: the header row holds a carriage return")
}

// The optional language column is read as given, under its aliases; a row too short to have it,
// or a dataset without it, has none, and is no worse for it.
func TestReaderLanguageColumnIsOptional(t *testing.T) {
	rows := readAll(t, "id,email,country,Locale\nL1,a@example.com,DE,it-IT\nL2,b@example.com,FR\nL3,c@example.com,ES, es \n", nil)
	require.Len(t, rows, 3)
	for i, want := range []string{"it-IT", "", "es"} {
		assert.Equal(t, want, rows[i].Language, "row %d", i+1)
		assert.Nil(t, rows[i].Problem, "row %d", i+1)
	}
	rows = readAll(t, header+"L1,a@example.com,A,DE,,contact\n", nil)
	assert.Equal(t, "", rows[0].Language)
}
