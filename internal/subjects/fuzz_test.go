package subjects_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
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
