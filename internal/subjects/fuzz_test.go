package subjects_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/breachops/breach/internal/subjects"
)

// maxFuzzRows bounds the rows read per input; inputs are small, so this is only a guard against
// a reader that never reaches EOF.
const maxFuzzRows = 100000

// FuzzReader feeds arbitrary bytes to Scan and to the streaming reader. Neither may panic; a
// successful Scan accounts for every row; and resuming from any row's position yields the rows
// that reading straight through does.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"",
		"\ufeff",
		"id,email,country\n",
		"id,email,name,country,state,data_categories\nS1,a@example.com,A,DE,,contact;address\nS2,b@example.com,B,US,CA,contact\n",
		"\ufeffSubject_ID,E-Mail,Full_Name,Country_Code,Region,Categories\r\nS1,a@example.com,\"Doe, A\",de,,x\r\nS2,b@example.com,\"B \"\"q\"\"\",us,ca,y|z\r\n",
		"id,email,name,country\nS1,a@example.com,\"multi\nline\nname\",FR\n\n\nS2,A@EXAMPLE.COM,B,FR\n",
		"id,email,name,country\nS1,a@example.com\nS2,,B,DE\nS3,bad,C,DE\nS3,c@example.com,C,ZZZ\n,d@example.com,D,DE\n",
		"id,email,name,country\nS1,a@example.com,\"unterminated,DE\n",
		"id,email,name,country\nS1,a@example.com,x\"y,DE\n",
		"\"id\",\"email\",\"country\"\r\n\"1\",\"a@b.co\",\"US-NY\"\r\n  \r\n\"2\",\"c@d.co\",\"us\"",
		"\ufeff\"id\",\"email\",\"country\"\n\"1\",\"a@b.co\",\"DE\"\n \n\t\n",
		"email,country\n",
		"id,email,country,data\n1,a@b.co,DE,\"a;\r\nb\"\n2,a@b.co\r",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, scanErr := subjects.Scan(bytes.NewReader(data), nil)
		if scanErr == nil {
			if got := s.Subjects + s.Duplicates + s.Unusable; got != s.Rows {
				t.Fatalf("subjects %d + duplicates %d + unusable %d = %d, want rows %d", s.Subjects, s.Duplicates, s.Unusable, got, s.Rows)
			}
			if got := s.Mailable + s.Invalid; got != s.Subjects {
				t.Fatalf("mailable %d + invalid %d = %d, want subjects %d", s.Mailable, s.Invalid, got, s.Subjects)
			}
			if s.Bytes != int64(len(data)) {
				t.Fatalf("bytes %d, want %d", s.Bytes, len(data))
			}
		}

		rd, err := subjects.NewReader(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		var rows []subjects.Row
		var positions []subjects.Position
		var endErr error
		for len(rows) < maxFuzzRows {
			pos := rd.Position()
			row, err := rd.Next()
			if err != nil {
				endErr = err
				break
			}
			if pos.Offset < 0 || pos.Offset > int64(len(data)) {
				t.Fatalf("position %+v outside the %d-byte input", pos, len(data))
			}
			if row.Line < pos.Line || row.Index != pos.Index+1 {
				t.Fatalf("row %d at line %d read from position %+v", row.Index, row.Line, pos)
			}
			positions = append(positions, pos)
			rows = append(rows, row)
		}
		if len(rows) == maxFuzzRows {
			t.Fatalf("more than %d rows from %d bytes", maxFuzzRows, len(data))
		}
		switch {
		case scanErr == nil && (!errors.Is(endErr, io.EOF) || len(rows) != s.Rows):
			t.Fatalf("Scan read %d rows, the reader %d and ended with %v", s.Rows, len(rows), endErr)
		case scanErr != nil && errors.Is(endErr, io.EOF):
			t.Fatalf("Scan failed (%v), the reader read %d rows to the end", scanErr, len(rows))
		}

		// Resume from a few positions, the last one included, and compare with reading straight
		// through.
		for _, i := range []int{0, len(positions) / 2, len(positions) - 1} {
			if i < 0 || i >= len(positions) {
				continue
			}
			pos := positions[i]
			rest := subjects.Resume(bytes.NewReader(data[pos.Offset:]), rd.Header(), pos, nil)
			for j := i; ; j++ {
				row, err := rest.Next()
				if err != nil {
					if j != len(rows) {
						t.Fatalf("resume at %+v: error %v at row %d, straight through read %d rows", pos, err, j+1, len(rows))
					}
					if errors.Is(err, io.EOF) != errors.Is(endErr, io.EOF) {
						t.Fatalf("resume at %+v ended with %v, straight through with %v", pos, err, endErr)
					}
					break
				}
				if j >= len(rows) {
					t.Fatalf("resume at %+v: row %d beyond the %d read straight through", pos, row.Index, len(rows))
				}
				if want := rows[j]; !reflect.DeepEqual(row, want) {
					t.Fatalf("resume at %+v: row %+v, straight through %+v", pos, row, want)
				}
			}
		}
	})
}

// FuzzReaderLimits reads arbitrary bytes with a small record limit (maxRecord, from 16 bytes)
// next to a reader with limits far above the input. The limited reader returns the same rows as
// long as each record fits, then stops with ErrRecordTooLong exactly where a record does not;
// it never reads more than one record limit and one buffer past the last row it returned.
// Positions must agree too: Position is what a resumed reader starts from.
func FuzzReaderLimits(f *testing.F) {
	f.Add([]byte("id,email,name,country\nS1,a@example.com,A,DE\nS2,b@example.com,\"a long, long name\",FR\n"), uint16(24))
	f.Add([]byte("id,email,country\n\n\n\n\n\n\n\nS1,a@example.com,DE\n"), uint16(16))
	f.Add([]byte("id,email,country,data\n1,a@b.co,DE,\"a;\r\nb\"\n2,c@d.co,DE,x\r"), uint16(20))
	f.Add([]byte(strings.Repeat("x", 100)), uint16(99))
	f.Fuzz(func(t *testing.T, data []byte, maxRecord uint16) {
		lim := subjects.Limits{MaxRecord: 16 + int(maxRecord)%4096}
		lim.MaxField = lim.MaxRecord // fields never exceed their record: only the record limit acts
		wide := subjects.Limits{MaxRecord: len(data) + 16, MaxField: len(data) + 16}

		wideRows, widePos, wideEnd := readWith(t, wide, data, nil)
		in := &countingReader{r: bytes.NewReader(data)}
		rows, pos, end := readWith(t, lim, data, in)

		if errors.Is(end, subjects.ErrRecordTooLong) {
			if len(rows) > len(wideRows) {
				t.Fatalf("limited read %d rows, unlimited %d", len(rows), len(wideRows))
			}
			// The record after the last row read is longer than the limit (or the header is).
			next := int64(len(data))
			if len(rows) < len(wideRows) {
				next = widePos[len(rows)+1].Offset
			}
			start := int64(0)
			if len(pos) > 0 {
				start = pos[len(pos)-1].Offset
			}
			if next-start <= int64(lim.MaxRecord) && wideEnd == nil {
				t.Fatalf("record %d spans bytes %d to %d, within the limit %d, and was refused", len(rows)+1, start, next, lim.MaxRecord)
			}
			if max := start + int64(lim.MaxRecord) + 64<<10 + 1; in.n > max {
				t.Fatalf("read %d bytes, past %d", in.n, max)
			}
		} else if errors.Is(end, io.EOF) != errors.Is(wideEnd, io.EOF) || len(rows) != len(wideRows) {
			t.Fatalf("limited: %d rows then %v; unlimited: %d rows then %v", len(rows), end, len(wideRows), wideEnd)
		}
		for i := range rows {
			// (A row may take more bytes than the limit: lines of spaces before it are records
			// of their own, each within the limit.)
			if !reflect.DeepEqual(rows[i], wideRows[i]) || pos[i+1] != widePos[i+1] {
				t.Fatalf("row %d: limited %+v at %+v, unlimited %+v at %+v", i+1, rows[i], pos[i+1], wideRows[i], widePos[i+1])
			}
		}
	})
}

// readWith reads data with lim to the first error. It returns the rows, the position before
// each row and after the last, and that error.
func readWith(t *testing.T, lim subjects.Limits, data []byte, in io.Reader) ([]subjects.Row, []subjects.Position, error) {
	t.Helper()
	if in == nil {
		in = bytes.NewReader(data)
	}
	rd, err := lim.NewReader(in, nil)
	if err != nil {
		return nil, nil, err
	}
	var rows []subjects.Row
	pos := []subjects.Position{rd.Position()}
	for len(rows) < maxFuzzRows {
		row, err := rd.Next()
		if err != nil {
			return rows, pos, err
		}
		rows = append(rows, row)
		pos = append(pos, rd.Position())
	}
	t.Fatalf("more than %d rows from %d bytes", maxFuzzRows, len(data))
	return nil, nil, nil
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
