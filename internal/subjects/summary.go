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

// Scan is Scan with the limits l. Its memory does not grow with the dataset: see spill.go.
func (l Limits) Scan(r io.Reader, onIssue func(Issue) error) (Summary, error) {
	l = l.withDefaults()
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(r, h)}
	rd, err := l.NewReader(cr, nil)
	if err != nil {
		return Summary{}, err
	}
	sp := newScanSpill(l.TempDir, l.SortRun)
	defer sp.close()
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Summary{}, err
		}
		if err := sp.add(row); err != nil {
			return Summary{}, err
		}
	}
	// Drain anything the CSV reader did not consume so the hash covers the whole file.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return Summary{}, err
	}
	s, err := sp.count(onIssue)
	if err != nil {
		return Summary{}, err
	}
	s.SHA256 = hex.EncodeToString(h.Sum(nil))
	s.Bytes = cr.n
	return s, nil
}

// count replays the counting stream beside the duplicate rows.
func (sp *scanSpill) count(onIssue func(Issue) error) (Summary, error) {
	s := Summary{ByJurisdiction: map[string]int{}, MailableByJurisdiction: map[string]int{}, ByCategory: map[string]int{}, IssueCounts: map[string]int{}}
	dups, err := sp.duplicates()
	if err != nil {
		return Summary{}, err
	}
	nextDup, more, err := dups.next()
	if err != nil {
		return Summary{}, err
	}
	fr, err := sp.facts.reader()
	if err != nil {
		return Summary{}, err
	}
	var ft fact
	for index := 1; ; index++ {
		ok, err := fr.next(&ft)
		if err != nil {
			return Summary{}, err
		}
		if !ok {
			break
		}
		dup := false
		for more && nextDup.a <= uint64(index) {
			dup = dup || nextDup.a == uint64(index)
			if nextDup, more, err = dups.next(); err != nil {
				return Summary{}, err
			}
		}
		problem := ft.problem
		if dup {
			problem = &Issue{Kind: IssueDuplicate}
		}
		s.Rows++
		for _, is := range []*Issue{problem, ft.note} {
			if is == nil {
				continue
			}
			is.Row, is.Line = index, ft.line
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
		if problem != nil {
			switch {
			case dup:
				s.Duplicates++
				continue
			case ft.subject:
				s.Invalid++
			default:
				s.Unusable++
				continue
			}
		} else {
			s.Mailable++
			s.MailableByJurisdiction[ft.jurisdiction]++
		}
		s.Subjects++
		s.ByJurisdiction[ft.jurisdiction]++
		if len(ft.categories) == 0 {
			s.Records++
		}
		for _, c := range ft.categories {
			s.ByCategory[c]++
			s.Records++
		}
	}
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
