package subjects

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"github.com/breachops/breach/incident"
)

// MaxListedIssues caps the issues listed one by one in a Summary; all are counted.
const MaxListedIssues = 200

// Summary is the scope of a dataset in counts (incident.ScopeSummary).
type Summary = incident.ScopeSummary

// Scan reads a whole dataset with DefaultLimits and returns its summary. onIssue, if not nil,
// sees every issue (notes included), including those past MaxListedIssues.
func Scan(r io.Reader, onIssue func(Issue) error) (Summary, error) {
	return DefaultLimits.Scan(r, onIssue)
}

// Scan is Scan with the limits l.
func (l Limits) Scan(r io.Reader, onIssue func(Issue) error) (Summary, error) {
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(r, h)}
	s := Summary{ByJurisdiction: map[string]int{}, MailableByJurisdiction: map[string]int{}, ByCategory: map[string]int{}, IssueCounts: map[string]int{}}
	rd, err := l.NewReader(cr, NewSeen())
	if err != nil {
		return Summary{}, err
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Summary{}, err
		}
		s.Rows++
		for _, is := range []*Issue{row.Problem, row.Note} {
			if is == nil {
				continue
			}
			s.IssueCounts[is.Kind]++
			if onIssue != nil {
				if err := onIssue(*is); err != nil {
					return Summary{}, err
				}
			}
			if len(s.Issues) < MaxListedIssues {
				s.Issues = append(s.Issues, *is)
			}
		}
		if row.Problem != nil {
			switch {
			case row.Problem.Kind == IssueDuplicate:
				s.Duplicates++
				continue
			case row.IsSubject():
				s.Invalid++
			default:
				s.Unusable++
				continue
			}
		} else {
			s.Mailable++
			s.MailableByJurisdiction[row.Jurisdiction]++
		}
		s.Subjects++
		s.ByJurisdiction[row.Jurisdiction]++
		if len(row.Categories) == 0 {
			s.Records++
		}
		for _, c := range row.Categories {
			s.ByCategory[c]++
			s.Records++
		}
	}
	// Drain anything the CSV reader did not consume so the hash covers the whole file.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return Summary{}, err
	}
	s.SHA256 = hex.EncodeToString(h.Sum(nil))
	s.Bytes = cr.n
	return s, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
