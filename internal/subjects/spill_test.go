package subjects_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/subjects"
)

// inMemoryScan is Scan as it was before duplicates went to disk: the reader flags duplicates
// with an in-memory Seen. Scan must give exactly its summary and issues.
func inMemoryScan(t *testing.T, data []byte) (subjects.Summary, []subjects.Issue) {
	t.Helper()
	s := subjects.Summary{ByJurisdiction: map[string]int{}, MailableByJurisdiction: map[string]int{}, ByCategory: map[string]int{}, IssueCounts: map[string]int{}}
	var all []subjects.Issue
	rd, err := subjects.NewReader(bytes.NewReader(data), subjects.NewSeen())
	require.NoError(t, err)
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		s.Rows++
		for _, is := range []*subjects.Issue{row.Problem, row.Note} {
			if is == nil {
				continue
			}
			s.IssueCounts[is.Kind]++
			all = append(all, *is)
			if len(s.Issues) < subjects.MaxListedIssues {
				s.Issues = append(s.Issues, *is)
			}
		}
		if row.Problem != nil {
			switch {
			case row.Problem.Kind == subjects.IssueDuplicate:
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
	return s, all
}

// messyDataset is a dataset of n rows with every kind of problem, and subjects repeated by id,
// by address and by address in another case, from a pool of pool subjects.
func messyDataset(seed uint64, n, pool int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id", "email", "name", "country", "state", "data_categories"})
	countries := []string{"DE", "fr", "US", "US", "GB", "ZZ", "", "Germany", "IT", "BR"}
	states := []string{"", "CA", "NY", "tx", "US-WA", "XX"}
	cats := []string{"", "contact", "contact;address", "payment-card-last4|contact", "health", "loyalty-points", "Financial; contact ;"}
	for i := 0; i < n; i++ {
		k := rng.IntN(pool)
		id := fmt.Sprintf("C%d", k)
		if rng.IntN(10) == 0 {
			id = fmt.Sprintf("C%d", rng.IntN(pool)) // an id that may belong to someone else's address
		}
		email := fmt.Sprintf("person%d@example.net", k)
		switch rng.IntN(20) {
		case 0:
			email = strings.ToUpper(email)
		case 1:
			email = ""
		case 2:
			email = fmt.Sprintf("person%d-at-example.net", k)
		case 3:
			email = "  " + email + " "
		}
		if rng.IntN(50) == 0 {
			id = ""
		}
		name := fmt.Sprintf("Person %d", k)
		if rng.IntN(40) == 0 {
			name = "Two\nlines"
		}
		rec := []string{id, email, name, countries[rng.IntN(len(countries))], states[rng.IntN(len(states))], cats[rng.IntN(len(cats))]}
		if rng.IntN(60) == 0 {
			rec = rec[:2] // a short row
		}
		_ = w.Write(rec)
		if rng.IntN(100) == 0 {
			_ = w.Write([]string{""}) // a blank line
		}
	}
	w.Flush()
	return b.Bytes()
}

func TestScanFindsTheDuplicatesTheInMemorySetFinds(t *testing.T) {
	for _, tt := range []struct {
		name      string
		n, pool   int
		run       int
		factBytes int
	}{
		{"one run in memory", 3000, 1000, 0, 0},
		{"runs of one key", 300, 100, 1, 0},
		{"runs of three keys", 2000, 500, 3, 0},
		{"many runs and a counting stream on disk", 20000, 4000, 257, 1 << 10},
		{"few duplicates", 20000, 1 << 30, 1000, 4 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := messyDataset(uint64(tt.n+tt.run), tt.n, tt.pool)
			want, wantAll := inMemoryScan(t, data)
			require.Positive(t, want.Duplicates+tt.pool/(1<<29), "the dataset has duplicates")
			if tt.factBytes > 0 {
				defer subjects.SetFactsInMemory(tt.factBytes)()
			}
			var got []subjects.Issue
			lim := subjects.Limits{SortRun: tt.run, TempDir: t.TempDir()}
			s, err := lim.Scan(bytes.NewReader(data), func(is subjects.Issue) error {
				got = append(got, is)
				return nil
			})
			require.NoError(t, err)
			s.SHA256, s.Bytes = "", 0
			assert.Equal(t, want, s)
			assert.Equal(t, wantAll, got)
		})
	}
}

// openTempFiles counts the files of dir the process holds open (unlinked or not).
func openTempFiles(t *testing.T, dir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}

// A dataset larger than one run goes to disk while it is scanned, in files nobody can open by
// name, closed when the scan ends.
func TestScanSpillsToUnlinkedFilesAndLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	defer subjects.SetFactsInMemory(512)()
	data := messyDataset(3, 5000, 1000)
	open := 0
	_, err := subjects.Limits{SortRun: 100, TempDir: dir}.Scan(bytes.NewReader(data), func(subjects.Issue) error {
		open = max(open, openTempFiles(t, dir))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "a file of the scan has a name")
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, open, 2, "files open while counting: the sorted runs of the duplicates and the counting stream")
	assert.Zero(t, openTempFiles(t, dir), "files still open after the scan")
}

// distinctRows generates n rows of distinct subjects, one in a hundred with an invalid address.
type distinctRows struct {
	n, i int
	buf  []byte
	// peak is the largest heap in use seen while the rows were read.
	peak  uint64
	reads int
}

func (d *distinctRows) Read(p []byte) (int, error) {
	if d.reads++; d.reads%200 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		d.peak = max(d.peak, m.HeapInuse)
	}
	for len(d.buf) < len(p) && d.i <= d.n {
		if d.i == 0 {
			d.buf = append(d.buf, header...)
		} else if d.i%100 == 0 {
			d.buf = fmt.Appendf(d.buf, "C%d,person%d-example.net,Person %d,DE,,contact\n", d.i, d.i, d.i)
		} else {
			d.buf = fmt.Appendf(d.buf, "C%d,person%d@example.net,Person %d,FR,,contact;address\n", d.i, d.i, d.i)
		}
		d.i++
	}
	if len(d.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

// The set of subjects seen once took about 160 MiB at a million rows. Now the heap stays within
// a few runs of keys, whatever the length of the dataset.
func TestScanMemoryDoesNotGrowWithTheDataset(t *testing.T) {
	const rows = 1_000_000
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	d := &distinctRows{n: rows}
	s, err := subjects.Limits{TempDir: t.TempDir()}.Scan(d, nil)
	require.NoError(t, err)
	assert.Equal(t, rows, s.Rows)
	assert.Equal(t, rows, s.Subjects)
	assert.Equal(t, rows/100, s.Invalid)
	assert.Zero(t, s.Duplicates)
	grew := int64(d.peak) - int64(base.HeapInuse)
	t.Logf("heap in use while reading %d rows: %.1f MiB above the start", rows, float64(grew)/(1<<20))
	assert.Less(t, grew, int64(24<<20), "heap growth while reading a million rows")
}
