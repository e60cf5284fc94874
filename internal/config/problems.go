package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/breachops/breach/internal/spelling"
)

// Error is one problem in a configuration file: where it is and what to do about it.
type Error struct {
	File string
	// Line is the line of the field, or of its nearest parent when the field is missing; 0 when
	// the problem is not at one line.
	Line int
	// Field is the path of the field, e.g. organisation.sectors[0]; "" for the file as a whole.
	Field string
	Msg   string
}

func (e *Error) Error() string { return "configuration " + e.where() }

// where is FILE:LINE: FIELD: MSG.
func (e *Error) where() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Problems is every problem found in one configuration file, in line order.
type Problems []*Error

func (p Problems) Error() string {
	if len(p) == 1 {
		return p[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "configuration %s has %d problems:", p[0].File, len(p))
	for _, e := range p {
		b.WriteString("\n  " + e.where())
	}
	return b.String()
}

// Unwrap gives each problem to errors.As.
func (p Problems) Unwrap() []error {
	out := make([]error, len(p))
	for i, e := range p {
		out[i] = e
	}
	return out
}

// entry is one field of the file: its path, the line of its key (or list item) and its value.
type entry struct {
	path  string
	line  int
	value *yaml.Node
}

// positions are the fields of the file, in document order, by path.
type positions struct {
	entries []entry
	byPath  map[string]entry
}

func positionsOf(root *yaml.Node) positions {
	p := positions{byPath: map[string]entry{}}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				child := k.Value
				if path != "" {
					child = path + "." + k.Value
				}
				p.add(entry{path: child, line: k.Line, value: v})
				walk(v, child)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				child := fmt.Sprintf("%s[%d]", path, i)
				p.add(entry{path: child, line: c.Line, value: c})
				walk(c, child)
			}
		}
	}
	walk(root, "")
	return p
}

func (p *positions) add(e entry) {
	p.entries = append(p.entries, e)
	if _, dup := p.byPath[e.path]; !dup {
		p.byPath[e.path] = e
	}
}

// line is the line of field, or of its nearest parent present in the file; 0 if none is.
func (p positions) line(field string) int {
	for f := field; f != ""; f = parent(f) {
		if e, ok := p.byPath[f]; ok {
			return e.line
		}
	}
	return 0
}

// parent drops the last part of a path: routes[1].address -> routes[1] -> routes -> "".
func parent(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

var (
	lineRE       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRE    = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	unmarshalRE  = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (\\S+)$")
	duplicateRE  = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	alreadySetRE = regexp.MustCompile(`^field (\S+) already set in type \S+$`)
	structs      = fileStructs()
)

// syntaxProblem is a file that is not YAML. The parser's line is where the enclosing block or
// list starts (yaml.v3 may give the line before it), so the message says "at or after".
func syntaxProblem(file string, err error) *Error {
	const fix = "; compare with examples/breach.yaml (indentation by spaces, lists in [ ] or with -)"
	e := &Error{File: file, Msg: "not YAML: " + strings.TrimPrefix(err.Error(), "yaml: ") + fix}
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "not YAML at or after this line: " + m[2] + fix
	}
	return e
}

// decodeProblems turns the strict decoder's complaints into problems at their lines.
func decodeProblems(file string, pos positions, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Problems{syntaxProblem(file, err)}
	}
	var p Problems
	for _, msg := range te.Errors {
		p = append(p, decodeProblem(file, pos, msg))
	}
	sort.SliceStable(p, func(i, j int) bool { return p[i].Line < p[j].Line })
	return p
}

func decodeProblem(file string, pos positions, msg string) *Error {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: file, Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	detail := m[2]
	e := &Error{File: file, Line: line, Msg: detail}
	if u := unknownRE.FindStringSubmatch(detail); u != nil {
		name, info := u[1], structs[u[2]]
		e.Field = pos.keyAt(line, name)
		where := "the top-level fields are "
		if info.section != "" {
			where = "the fields of " + info.section + " are "
		}
		e.Msg = fmt.Sprintf("unknown field %q%s; %s%s", name, didYouMean(name, info.fields), where, strings.Join(info.fields, ", "))
		return e
	}
	if u := unmarshalRE.FindStringSubmatch(detail); u != nil {
		e.Field = pos.valueAt(line, u[1], u[2])
		e.Msg = "expected " + expected(u[3], u[2]) + ", got " + got(u[1], u[2])
		return e
	}
	if u := duplicateRE.FindStringSubmatch(detail); u != nil {
		e.Field = pos.keyAt(line, u[1])
		e.Msg = fmt.Sprintf("given twice (first on line %s); keep one", u[2])
		return e
	}
	if u := alreadySetRE.FindStringSubmatch(detail); u != nil {
		e.Field = pos.keyAt(line, u[1])
		e.Msg = "given twice; keep one"
		return e
	}
	return e
}

// keyAt is the path of the key name on line.
func (p positions) keyAt(line int, name string) string {
	for _, e := range p.entries {
		if e.line == line && (e.path == name || strings.HasSuffix(e.path, "."+name)) {
			return e.path
		}
	}
	return ""
}

// valueAt is the path of the value the decoder could not read: the outermost value on line with
// that tag (and, for a scalar, that text).
func (p positions) valueAt(line int, tag, value string) string {
	for _, e := range p.entries {
		v := e.value
		if v.Line != line || v.ShortTag() != tag {
			continue
		}
		if v.Kind == yaml.ScalarNode && value != "" && v.Value != value {
			continue
		}
		return e.path
	}
	return ""
}

// expected says in words what a Go type wants.
func expected(goType, value string) string {
	switch {
	case goType == "[]string":
		if value != "" {
			return "a list, e.g. [" + value + "]"
		}
		return "a list, e.g. [a, b]"
	case goType == "string":
		return "a single value"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]") && len(structs[goType[2:]].fields) > 0:
		return "a list of mappings (" + strings.Join(structs[goType[2:]].fields, ", ") + ")"
	case len(structs[goType].fields) > 0:
		return "a mapping (" + strings.Join(structs[goType].fields, ", ") + ")"
	}
	return goType
}

// got says in words what the file holds.
func got(tag, value string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "nothing"
	}
	if value != "" {
		return strconv.Quote(value)
	}
	return tag
}

// structInfo is one struct of the file's layout: the field that holds it and its fields.
type structInfo struct {
	section string // "" for Config itself
	fields  []string
}

// fileStructs describes the structs of the layout by Go type name (config.Organisation), for
// messages about fields the decoder did not expect.
func fileStructs() map[string]structInfo {
	out := map[string]structInfo{}
	pkg := reflect.TypeFor[Config]().PkgPath()
	var walk func(t reflect.Type, section string)
	walk = func(t reflect.Type, section string) {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() != pkg {
			return
		}
		if _, seen := out[t.String()]; seen {
			return
		}
		info := structInfo{section: section}
		for i := 0; i < t.NumField(); i++ {
			if name := yamlName(t.Field(i)); name != "" {
				info.fields = append(info.fields, name)
			}
		}
		out[t.String()] = info
		for i := 0; i < t.NumField(); i++ {
			if name := yamlName(t.Field(i)); name != "" {
				walk(t.Field(i).Type, name)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// didYouMean is " (did you mean X?)" when word looks like a misspelling of one of known.
func didYouMean(word string, known []string) string {
	if n := spelling.Nearest(word, known); n != "" {
		return " (did you mean " + n + "?)"
	}
	return ""
}
