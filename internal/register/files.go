package register

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The files register is a directory holding one file per entry, named by its number in the
// register, its incident and its version (000000000042_INC-20261128-7F3A_v3.json), each
// written whole before it appears and never rewritten; HEAD names the last entry. Appends from
// several processes take turns on a lock file.

// maxEntryFile bounds what is read of one entry file: an entry is a few KiB.
const maxEntryFile = 8 << 20

const (
	headFile = "HEAD"
	lockName = ".lock"
)

var entryFileName = regexp.MustCompile(`^([0-9]{12})_(INC-[0-9]{8}-[0-9A-F]{4,16})_v([0-9]{1,9})\.json$`)

type files struct{ dir string }

// OpenFiles opens the register kept in dir, creating the directory when needed.
func OpenFiles(dir string) (*Register, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("register: no directory given")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("register: create %s: %w; make it writable by the worker, or keep the register in PostgreSQL (BREACH_REGISTER_DSN)", dir, err)
	}
	return &Register{b: &files{dir: dir}}, nil
}

func (f *files) where() string { return f.dir }
func (f *files) close() error  { return nil }

// fileRef is an entry file's name, read.
type fileRef struct {
	name     string
	seq      int64
	incident string
	version  int
}

func entryName(s *stored) string {
	return fmt.Sprintf("%012d_%s_v%d.json", s.Seq, s.IncidentID, s.Version)
}

// list returns the entry files in order, and the names of any other file.
func (f *files) list() ([]fileRef, []string, error) {
	des, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("register: read %s: %w", f.dir, err)
	}
	var refs []fileRef
	var strays []string
	for _, de := range des {
		n := de.Name()
		if n == headFile || n == lockName || strings.HasPrefix(n, ".tmp-") {
			continue
		}
		m := entryFileName.FindStringSubmatch(n)
		if m == nil || !de.Type().IsRegular() {
			strays = append(strays, n)
			continue
		}
		seq, _ := strconv.ParseInt(m[1], 10, 64)
		v, _ := strconv.Atoi(m[3])
		refs = append(refs, fileRef{name: n, seq: seq, incident: m[2], version: v})
	}
	// ReadDir sorts by name, and the zero-padded number leads the name.
	return refs, strays, nil
}

// fileEntry is the content of an entry file: the entry as hashed, and its hash.
type fileEntry struct {
	Hash  string          `json:"hash"`
	Entry json.RawMessage `json:"entry"`
}

func (f *files) read(r fileRef) (stored, error) {
	path := filepath.Join(f.dir, r.name)
	s := stored{Seq: r.seq, IncidentID: r.incident, Version: r.version, Where: path}
	file, err := os.Open(path)
	if err != nil {
		return s, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxEntryFile+1))
	if err != nil {
		return s, err
	}
	if len(data) > maxEntryFile {
		return s, fmt.Errorf("larger than %d bytes", maxEntryFile)
	}
	var fe fileEntry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fe); err != nil {
		return s, fmt.Errorf("not an entry file: %v", err)
	}
	if fe.Hash == "" || len(fe.Entry) == 0 {
		return s, errors.New("not an entry file: no hash or no entry")
	}
	s.Hash, s.Body = fe.Hash, []byte(fe.Entry)
	return s, nil
}

func (f *files) scan(ctx context.Context, incidentID string) ([]stored, []Problem, error) {
	refs, strays, err := f.list()
	if err != nil {
		return nil, nil, err
	}
	var out []stored
	var problems []Problem
	if incidentID == "" {
		for _, n := range strays {
			problems = append(problems, Problem{Where: filepath.Join(f.dir, n),
				What: "a file that is not a register entry, or an entry renamed by hand"})
		}
	}
	for _, r := range refs {
		if incidentID != "" && r.incident != incidentID {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		s, err := f.read(r)
		if err != nil {
			problems = append(problems, Problem{Seq: r.seq, IncidentID: r.incident, Version: r.version, Where: s.Where,
				What: fmt.Sprintf("it cannot be read (%v): it was changed", err)})
			continue
		}
		out = append(out, s)
	}
	return out, problems, nil
}

func (f *files) head(ctx context.Context) (*head, error) {
	data, err := os.ReadFile(filepath.Join(f.dir, headFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("register: read the head: %w", err)
	}
	var h head
	if err := json.Unmarshal(data, &h); err != nil {
		return &head{Seq: -1, Hash: "unreadable"}, nil
	}
	return &h, nil
}

func (f *files) append(ctx context.Context, incidentID string, build func(last, latest *stored) (*stored, error)) error {
	unlock, err := lockFile(ctx, filepath.Join(f.dir, lockName))
	if err != nil {
		return fmt.Errorf("register: lock %s: %w", f.dir, err)
	}
	defer unlock()
	refs, _, err := f.list()
	if err != nil {
		return err
	}
	var last, latest *stored
	if n := len(refs); n > 0 {
		s, err := f.read(refs[n-1])
		if err != nil {
			return fmt.Errorf("register: the last entry %s cannot be read (%v): run breach register verify", s.Where, err)
		}
		last = &s
	}
	for i := len(refs) - 1; i >= 0; i-- {
		if refs[i].incident == incidentID {
			s, err := f.read(refs[i])
			if err != nil {
				return fmt.Errorf("register: the latest entry of %s, %s, cannot be read (%v): run breach register verify", incidentID, s.Where, err)
			}
			latest = &s
			break
		}
	}
	s, err := build(last, latest)
	if err != nil || s == nil {
		return err
	}
	return f.write(s)
}

// write stores a new entry file and moves the head on. The file appears whole (a link from a
// synced temporary file) and never replaces another.
func (f *files) write(s *stored) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"hash\":%q,\"entry\":", s.Hash)
	b.Write(s.Body)
	b.WriteString("}\n")
	path := filepath.Join(f.dir, entryName(s))
	if err := writeSynced(f.dir, b.Bytes(), func(tmp string) error { return os.Link(tmp, path) }); err != nil {
		return fmt.Errorf("register: write %s: %w", path, err)
	}
	h, _ := json.Marshal(head{Seq: s.Seq, Hash: s.Hash})
	hp := filepath.Join(f.dir, headFile)
	if err := writeSynced(f.dir, append(h, '\n'), func(tmp string) error { return os.Rename(tmp, hp) }); err != nil {
		return fmt.Errorf("register: write %s: %w", hp, err)
	}
	return nil
}

// writeSynced writes data to a temporary file in dir, syncs it, puts it in place with place,
// and syncs dir.
func writeSynced(dir string, data []byte, place func(tmp string) error) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := place(tmp.Name()); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // not every system syncs a directory
		d.Close()
	}
	return nil
}
