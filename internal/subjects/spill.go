package subjects

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/breachops/breach/internal/mail"
)

// Scan finds duplicates without holding a set that grows with the dataset. While it reads, it
// writes two streams: the keys of each subject (a hash of its id, and of its address when it can
// be mailed, with the row's index), sorted in runs of SortRun keys and merged from disk; and
// what each row adds to the counts (line, problem, jurisdiction, categories: never a value that
// identifies a person). Sorting the keys groups every subject's rows; all but the first row of a
// group are duplicates, the same rows the in-memory Seen flags. Those row numbers are sorted in
// turn, and the second stream is replayed beside them to count. A dataset whose keys fit one run
// (about 130,000 rows) never touches the disk.
//
// The files are unlinked as soon as they are created: nothing is left behind, even when the
// process is killed. They hold 64-bit hashes of ids and addresses, never the values.

// DefaultSortRun is how many keys Scan sorts in memory (16 bytes each: 4 MiB) before it writes
// them out as a sorted run: ten million rows make about eighty runs, merged with 32 KiB each.
const DefaultSortRun = 1 << 18

// factsInMemory is how much of the counting stream Scan keeps in memory before it spills to a
// file (a variable for tests).
var factsInMemory = 4 << 20

// keyEmail marks an address key: ids and addresses are separate namespaces, as in Seen.
const keyEmail = uint64(1) << 63

// entry is one sortable record: by a, then b.
type entry struct{ a, b uint64 }

func compareEntries(x, y entry) int {
	switch {
	case x.a < y.a:
		return -1
	case x.a > y.a:
		return 1
	case x.b < y.b:
		return -1
	case x.b > y.b:
		return 1
	}
	return 0
}

// tempFile creates a file in dir and unlinks it at once; it lives as long as it is open.
func tempFile(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "breach-scan-*")
	if err != nil {
		return nil, fmt.Errorf("subjects dataset: a temporary file for finding duplicates: %w (set TMPDIR to a directory with room)", err)
	}
	_ = os.Remove(f.Name())
	return f, nil
}

// sorter sorts entries, in memory up to run entries, then in sorted runs on disk merged when
// read.
type sorter struct {
	dir  string
	run  int
	buf  []entry
	runs []*os.File
}

func newSorter(dir string, run int) *sorter { return &sorter{dir: dir, run: run} }

func (s *sorter) add(e entry) error {
	if s.buf == nil {
		s.buf = make([]entry, 0, min(s.run, 1<<12))
	}
	s.buf = append(s.buf, e)
	if len(s.buf) >= s.run {
		return s.flush()
	}
	return nil
}

// flush writes the buffer out as a sorted run.
func (s *sorter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	slices.SortFunc(s.buf, compareEntries)
	f, err := tempFile(s.dir)
	if err != nil {
		return err
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 64<<10)
	var b [16]byte
	for _, e := range s.buf {
		binary.LittleEndian.PutUint64(b[:8], e.a)
		binary.LittleEndian.PutUint64(b[8:], e.b)
		if _, err := w.Write(b[:]); err != nil {
			return fmt.Errorf("subjects dataset: write a sorted run: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("subjects dataset: write a sorted run: %w", err)
	}
	s.buf = s.buf[:0]
	return nil
}

// iter returns the entries in order; the sorter takes no more after.
func (s *sorter) iter() (entryIter, error) {
	if len(s.runs) == 0 {
		slices.SortFunc(s.buf, compareEntries)
		return &sliceIter{s: s.buf}, nil
	}
	if err := s.flush(); err != nil {
		return nil, err
	}
	s.buf = nil
	m := &mergeIter{}
	for _, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("subjects dataset: read a sorted run: %w", err)
		}
		r := &runReader{r: bufio.NewReaderSize(f, 32<<10)}
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, r)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

func (s *sorter) close() {
	for _, f := range s.runs {
		f.Close()
	}
	s.runs, s.buf = nil, nil
}

type entryIter interface {
	// next returns the next entry, or false at the end.
	next() (entry, bool, error)
}

type sliceIter struct {
	s []entry
	i int
}

func (it *sliceIter) next() (entry, bool, error) {
	if it.i >= len(it.s) {
		return entry{}, false, nil
	}
	it.i++
	return it.s[it.i-1], true, nil
}

// runReader reads one sorted run; head is its current entry.
type runReader struct {
	r    *bufio.Reader
	head entry
}

func (r *runReader) next() (bool, error) {
	var b [16]byte
	if _, err := io.ReadFull(r.r, b[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, fmt.Errorf("subjects dataset: read a sorted run: %w", err)
	}
	r.head = entry{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
	return true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareEntries(h[i].head, h[j].head) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeIter merges sorted runs.
type mergeIter struct{ h runHeap }

func (m *mergeIter) next() (entry, bool, error) {
	if len(m.h) == 0 {
		return entry{}, false, nil
	}
	top := m.h[0]
	e := top.head
	ok, err := top.next()
	switch {
	case err != nil:
		return entry{}, false, err
	case ok:
		heap.Fix(&m.h, 0)
	default:
		heap.Pop(&m.h)
	}
	return e, true, nil
}

// facts is the counting stream: what each row adds to the summary, in row order.
type facts struct {
	dir  string
	mem  bytes.Buffer
	file *os.File
	w    *bufio.Writer
	// names interns the few strings a row carries (issue kinds and columns, jurisdictions,
	// categories): each is a word of a small vocabulary.
	names    []string
	index    map[string]uint64
	lastLine int
	scratch  []byte
}

// Flags of a row in the counting stream.
const (
	factProblem = 1 << iota
	factNote
	factSubject
)

func (f *facts) intern(s string) uint64 {
	if i, ok := f.index[s]; ok {
		return i
	}
	if f.index == nil {
		f.index = map[string]uint64{}
	}
	i := uint64(len(f.names))
	f.names = append(f.names, s)
	f.index[s] = i
	return i
}

func issueName(is *Issue) string { return is.Kind + "\x00" + is.Column }

func (f *facts) add(row Row) error {
	b := f.scratch[:0]
	b = binary.AppendVarint(b, int64(row.Line-f.lastLine))
	f.lastLine = row.Line
	var flags byte
	if row.Problem != nil {
		flags |= factProblem
	}
	if row.Note != nil {
		flags |= factNote
	}
	subject := row.IsSubject()
	if subject {
		flags |= factSubject
	}
	b = append(b, flags)
	if row.Problem != nil {
		b = binary.AppendUvarint(b, f.intern(issueName(row.Problem)))
	}
	if row.Note != nil {
		b = binary.AppendUvarint(b, f.intern(issueName(row.Note)))
	}
	// Only a subject's jurisdiction is counted, and only a subject's is sure to be a known code.
	if subject {
		b = binary.AppendUvarint(b, f.intern(row.Jurisdiction))
		b = binary.AppendUvarint(b, uint64(len(row.Categories)))
		for _, c := range row.Categories {
			b = binary.AppendUvarint(b, f.intern(c))
		}
	}
	f.scratch = b
	return f.write(b)
}

func (f *facts) write(b []byte) error {
	if f.w == nil && f.mem.Len()+len(b) <= factsInMemory {
		f.mem.Write(b)
		return nil
	}
	if f.w == nil {
		file, err := tempFile(f.dir)
		if err != nil {
			return err
		}
		f.file, f.w = file, bufio.NewWriterSize(file, 256<<10)
		if _, err := f.w.Write(f.mem.Bytes()); err != nil {
			return fmt.Errorf("subjects dataset: write the counting stream: %w", err)
		}
		f.mem = bytes.Buffer{}
	}
	if _, err := f.w.Write(b); err != nil {
		return fmt.Errorf("subjects dataset: write the counting stream: %w", err)
	}
	return nil
}

// reader returns the stream from its start.
func (f *facts) reader() (*factsReader, error) {
	if f.w == nil {
		return &factsReader{f: f, r: bufio.NewReader(bytes.NewReader(f.mem.Bytes()))}, nil
	}
	if err := f.w.Flush(); err != nil {
		return nil, fmt.Errorf("subjects dataset: write the counting stream: %w", err)
	}
	if _, err := f.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("subjects dataset: read the counting stream: %w", err)
	}
	return &factsReader{f: f, r: bufio.NewReaderSize(f.file, 256<<10)}, nil
}

func (f *facts) close() {
	if f.file != nil {
		f.file.Close()
	}
	f.mem = bytes.Buffer{}
}

// fact is one row of the counting stream.
type fact struct {
	line            int
	problem, note   *Issue
	subject         bool
	jurisdiction    string
	categories      []string
	problemV, noteV Issue
}

type factsReader struct {
	f    *facts
	r    *bufio.Reader
	line int
	cats []string
}

var errCorruptFacts = errors.New("subjects dataset: the counting stream is corrupt")

func (fr *factsReader) name(i uint64) (string, error) {
	if i >= uint64(len(fr.f.names)) {
		return "", errCorruptFacts
	}
	return fr.f.names[i], nil
}

func (fr *factsReader) issue(dst *Issue) error {
	i, err := binary.ReadUvarint(fr.r)
	if err != nil {
		return errCorruptFacts
	}
	n, err := fr.name(i)
	if err != nil {
		return err
	}
	kind, col, _ := bytesCut(n)
	*dst = Issue{Kind: kind, Column: col}
	return nil
}

func bytesCut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// next reads the next row's fact into ft; false at the end.
func (fr *factsReader) next(ft *fact) (bool, error) {
	d, err := binary.ReadVarint(fr.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, errCorruptFacts
	}
	fr.line += int(d)
	flags, err := fr.r.ReadByte()
	if err != nil {
		return false, errCorruptFacts
	}
	*ft = fact{line: fr.line, subject: flags&factSubject != 0}
	if flags&factProblem != 0 {
		if err := fr.issue(&ft.problemV); err != nil {
			return false, err
		}
		ft.problem = &ft.problemV
	}
	if flags&factNote != 0 {
		if err := fr.issue(&ft.noteV); err != nil {
			return false, err
		}
		ft.note = &ft.noteV
	}
	if ft.subject {
		j, err := binary.ReadUvarint(fr.r)
		if err != nil {
			return false, errCorruptFacts
		}
		if ft.jurisdiction, err = fr.name(j); err != nil {
			return false, err
		}
		n, err := binary.ReadUvarint(fr.r)
		if err != nil || n > uint64(len(fr.f.names)) {
			return false, errCorruptFacts
		}
		fr.cats = fr.cats[:0]
		for range n {
			c, err := binary.ReadUvarint(fr.r)
			if err != nil {
				return false, errCorruptFacts
			}
			name, err := fr.name(c)
			if err != nil {
				return false, err
			}
			fr.cats = append(fr.cats, name)
		}
		ft.categories = fr.cats
	}
	return true, nil
}

// scanSpill is what Scan writes while it reads: the subjects' keys and the counting stream.
type scanSpill struct {
	dir   string
	run   int
	keys  *sorter
	dups  *sorter
	facts *facts
	rows  uint64
}

func newScanSpill(dir string, run int) *scanSpill {
	return &scanSpill{dir: dir, run: run, keys: newSorter(dir, run), facts: &facts{dir: dir}}
}

// add records a row read without duplicate detection (Row.Index counts from 1).
func (s *scanSpill) add(row Row) error {
	s.rows = uint64(row.Index)
	if row.IsSubject() {
		if err := s.keys.add(entry{fnv64(row.ID), uint64(row.Index)}); err != nil {
			return err
		}
		// As Seen.add: the address is a key only when it can be mailed.
		if row.Mailable() {
			if err := s.keys.add(entry{fnv64(mail.Normalize(row.Email)), keyEmail | uint64(row.Index)}); err != nil {
				return err
			}
		}
	}
	return s.facts.add(row)
}

// duplicates sorts the keys and returns the rows that repeat an earlier subject, in row order
// (a row repeating both an id and an address comes twice).
func (s *scanSpill) duplicates() (entryIter, error) {
	it, err := s.keys.iter()
	if err != nil {
		return nil, err
	}
	s.dups = newSorter(s.dir, s.run)
	var prev entry
	first := true
	for {
		e, ok, err := it.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		// Sorted by hash, then kind and row: a group is one hash of one kind, its first row
		// the earliest.
		if !first && e.a == prev.a && e.b&keyEmail == prev.b&keyEmail {
			if err := s.dups.add(entry{a: e.b &^ keyEmail}); err != nil {
				return nil, err
			}
		}
		prev, first = e, false
	}
	s.keys.close()
	return s.dups.iter()
}

func (s *scanSpill) close() {
	s.keys.close()
	if s.dups != nil {
		s.dups.close()
	}
	s.facts.close()
}
