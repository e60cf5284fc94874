// Package scenario reads tabletop-drill scenarios: a YAML file with the incident to rehearse
// (title, systems, subjects dataset, facts for the obligations), what the simulated people
// decide and how long they take, timed injects, and the targets a team is scored against.
//
// Parsing is strict: an unknown field, a target for a step that does not exist, an inject after
// the drill's end are errors naming the line and the field (*Error).
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/internal/rules"
)

// Scenario is a parsed drill scenario. It is plain data, JSON-tagged: a drill workflow carries
// it in its input, and a schedule in its action.
type Scenario struct {
	// Name identifies the scenario across drills (history trends); by default the file name.
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Systems     []string `json:"systems"`
	// Subjects is the affected-subjects CSV; Load makes it an absolute path.
	Subjects string `json:"subjects"`
	// Duration is how long the drill runs in drill time; it ends earlier if the incident closes.
	Duration Duration `json:"duration"`
	// Schedule is a default cron expression for `breach drill schedule`.
	Schedule  string      `json:"schedule,omitempty"`
	Facts     Facts       `json:"facts"`
	Decision  Decision    `json:"decision"`
	Roles     Roles       `json:"roles"`
	Responses []StepDelay `json:"responses,omitempty"`
	// Injects are in time order.
	Injects []Inject `json:"injects,omitempty"`
	// Targets are in file order.
	Targets []Target `json:"targets,omitempty"`
}

// Facts are the organisation facts the obligations depend on, overriding the configuration's.
// Establishments given here replace the configuration's, and its establishment_regions and
// main_establishment with them (the scenario's own, or none).
type Facts struct {
	Establishments       []string `json:"establishments,omitempty" yaml:"establishments"`
	EstablishmentRegions []string `json:"establishment_regions,omitempty" yaml:"establishment_regions"`
	MainEstablishment    string   `json:"main_establishment,omitempty" yaml:"main_establishment"`
	PublicTask           bool     `json:"public_task,omitempty" yaml:"public_task"`
	Sectors              []string `json:"sectors,omitempty" yaml:"sectors"`
	Role                 string   `json:"role,omitempty" yaml:"role"`
}

// Decision is what the simulated DPO decides.
// An omitted risk means high, with notices to the subjects unless the data is unintelligible.
type Decision struct {
	Risk                    string `json:"risk" yaml:"risk"`
	NotifySubjects          bool   `json:"notify_subjects,omitempty" yaml:"notify_subjects"`
	EncryptedUnintelligible bool   `json:"encrypted_unintelligible,omitempty" yaml:"encrypted_unintelligible"`
	SignificantIncident     bool   `json:"significant_incident,omitempty" yaml:"significant_incident"`
	Reasoning               string `json:"reasoning" yaml:"reasoning"`
	Consequences            string `json:"consequences,omitempty" yaml:"consequences"`
	Measures                string `json:"measures,omitempty" yaml:"measures"`
	Advice                  string `json:"advice,omitempty" yaml:"advice"`
}

// Roles are the simulated people the auto-pilot plays.
type Roles struct {
	DPO       Persona `json:"dpo" yaml:"dpo"`
	Commander Persona `json:"commander" yaml:"commander"`
}

// Persona is one simulated person: who they act as, and how long they take to answer.
type Persona struct {
	// As is the identity; empty means the first one the configuration gives the role.
	As    string   `json:"as,omitempty" yaml:"as"`
	Delay Duration `json:"delay" yaml:"delay"`
}

// StepDelay overrides the response delay of one step (see Steps).
type StepDelay struct {
	Step  string   `json:"step"`
	Delay Duration `json:"delay"`
}

// Inject is a piece of news delivered into the incident at a time after the drill's start.
type Inject struct {
	At   Duration `json:"at" yaml:"at"`
	Text string   `json:"text" yaml:"text"`
}

// Target is how soon after the start a step should be done.
type Target struct {
	Step   string   `json:"step"`
	Within Duration `json:"within"`
}

// Steps a target or a response delay can name. approve, file and contain may be narrowed to one
// obligation or system with a colon: approve:gdpr-art33-authority, contain:shop-db.
const (
	StepContain = "contain"
	StepScope   = "scope"
	StepDecide  = "decide"
	StepApprove = "approve"
	StepFile    = "file"
	StepNotify  = "notify"
	StepClose   = "close"
	// StepIsolate is a person confirming a manual isolation (responses only).
	StepIsolate = "isolate"
)

// HumanStep reports whether a person must act for the step to be done.
func HumanStep(step string) bool {
	base, _, _ := strings.Cut(step, ":")
	switch base {
	case StepDecide, StepApprove, StepFile, StepClose, StepIsolate:
		return true
	}
	return false
}

// RoleOf names the role that does a human step: dpo or commander.
func RoleOf(step string) string {
	base, _, _ := strings.Cut(step, ":")
	if base == StepClose || base == StepIsolate || base == StepContain {
		return "commander"
	}
	return "dpo"
}

// Error is a problem in a scenario file, at a line and field.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("scenario")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// DefaultDuration is the drill's length when the scenario gives none: the GDPR clock.
const DefaultDuration = Duration(72 * time.Hour)

// file is the YAML layout. Targets and responses are mappings read by hand, to keep their order
// and lines.
type file struct {
	Name        string    `yaml:"name"`
	Title       string    `yaml:"title"`
	Description string    `yaml:"description"`
	Systems     []string  `yaml:"systems"`
	Subjects    string    `yaml:"subjects"`
	Duration    *Duration `yaml:"duration"`
	Schedule    string    `yaml:"schedule"`
	Facts       Facts     `yaml:"facts"`
	Decision    Decision  `yaml:"decision"`
	Roles       Roles     `yaml:"roles"`
	Responses   yaml.Node `yaml:"responses"`
	Injects     []Inject  `yaml:"injects"`
	Targets     yaml.Node `yaml:"targets"`
}

// Load reads a scenario file and resolves its subjects dataset relative to the file, checking
// that the dataset can be read.
func Load(path string) (Scenario, error) {
	data, err := infile.ReadFile(path, infile.MaxConfigBytes)
	if err != nil {
		return Scenario{}, &Error{File: path, Msg: fmt.Sprintf("cannot read the scenario: %v", err)}
	}
	sc, err := Parse(path, data)
	if err != nil {
		return Scenario{}, err
	}
	p := sc.Subjects
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(path), p)
	}
	abs, err := filepath.Abs(p)
	if err == nil {
		err = infile.Check(abs, 0)
	}
	if err != nil {
		var root yaml.Node
		_ = yaml.Unmarshal(data, &root)
		return Scenario{}, &Error{File: path, Line: lineOf(&root, "subjects"), Field: "subjects",
			Msg: fmt.Sprintf("the dataset %s cannot be read (%v); the path is relative to the scenario file", sc.Subjects, err)}
	}
	sc.Subjects = abs
	return sc, nil
}

// Parse reads a scenario from YAML. name is the file name used in errors and as the default
// Name. The subjects path is left as written.
func Parse(name string, data []byte) (Scenario, error) {
	p, f, err := decodeFile(name, data)
	if err != nil {
		return Scenario{}, err
	}
	sc := Scenario{Name: strings.TrimSpace(f.Name), Title: strings.TrimSpace(f.Title), Description: strings.TrimSpace(f.Description),
		Systems: f.Systems, Subjects: strings.TrimSpace(f.Subjects), Schedule: strings.TrimSpace(f.Schedule),
		Facts: f.Facts, Decision: f.Decision, Roles: f.Roles, Injects: f.Injects, Duration: DefaultDuration}
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".yaml"), ".yml")
	}
	if err := p.checkHeader(&sc, f); err != nil {
		return Scenario{}, err
	}
	if err := p.checkFacts(&sc); err != nil {
		return Scenario{}, err
	}
	if err := p.checkDecision(&sc); err != nil {
		return Scenario{}, err
	}
	if err := p.checkRoles(&sc); err != nil {
		return Scenario{}, err
	}
	if err := p.checkInjects(&sc); err != nil {
		return Scenario{}, err
	}
	if err := p.readSteps(&sc, f); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// parser is what the checks of one scenario file share: its name and its YAML tree, so that
// every error names the file, the line and the field.
type parser struct {
	name string
	root *yaml.Node
}

// fail returns the *Error for a field at a line of the file.
func (p *parser) fail(line int, field, format string, args ...any) error {
	return &Error{File: p.name, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// line returns the line of the node at path in the file, or 0.
func (p *parser) line(path ...any) int { return lineOf(p.root, path...) }

// decodeFile reads the YAML twice: as a tree, for the lines errors name, and strictly into
// file, so that an unknown field is an error.
func decodeFile(name string, data []byte) (*parser, *file, error) {
	p := &parser{name: name, root: &yaml.Node{}}
	if err := yaml.Unmarshal(data, p.root); err != nil {
		return nil, nil, yamlError(name, p.root, err)
	}
	if len(p.root.Content) == 0 {
		return nil, nil, p.fail(0, "", "the file is empty; a scenario needs at least title, systems and subjects")
	}
	if p.root.Content[0].Kind != yaml.MappingNode {
		return nil, nil, p.fail(p.root.Content[0].Line, "", "a scenario is a mapping of fields (title:, systems:, …)")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, yamlError(name, p.root, err)
	}
	return p, &f, nil
}

// checkHeader checks the name, title, systems and subjects, and takes the duration and
// schedule from the file when given.
func (p *parser) checkHeader(sc *Scenario, f *file) error {
	if !nameRE.MatchString(sc.Name) {
		return p.fail(p.line("name"), "name", "%q must be lowercase letters, digits and dashes (it names schedules and history)", sc.Name)
	}
	if sc.Title == "" {
		return p.fail(p.line("title"), "title", "required: the incident's short title")
	}
	if len(sc.Systems) == 0 {
		return p.fail(p.line("systems"), "systems", "required: name at least one affected system")
	}
	seen := map[string]bool{}
	for i, s := range sc.Systems {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "/ ") {
			return p.fail(p.line("systems", i), fmt.Sprintf("systems[%d]", i), "system name %q must be non-empty, without spaces or slashes", s)
		}
		if seen[s] {
			return p.fail(p.line("systems", i), fmt.Sprintf("systems[%d]", i), "system %q is named twice", s)
		}
		seen[s] = true
	}
	if sc.Subjects == "" {
		return p.fail(p.line("subjects"), "subjects", "required: the CSV of the (fictitious) affected subjects, relative to this file")
	}
	if f.Duration != nil {
		if *f.Duration <= 0 {
			return p.fail(p.line("duration"), "duration", "must be longer than zero")
		}
		sc.Duration = *f.Duration
	}
	if sc.Schedule != "" {
		if err := ValidateCron(sc.Schedule); err != nil {
			return p.fail(p.line("schedule"), "schedule", "%v", err)
		}
	}
	return nil
}

// checkFacts checks the facts and decision as the rules engine and the DPO's Update would,
// and normalises the establishments to upper case as they do.
func (p *parser) checkFacts(sc *Scenario) error {
	rf := rules.Facts{AwareAt: time.Unix(0, 0), Establishments: upper(sc.Facts.Establishments), Sectors: sc.Facts.Sectors,
		Role: sc.Facts.Role, Risk: sc.Decision.Risk, EncryptedUnintelligible: sc.Decision.EncryptedUnintelligible,
		SignificantIncident:  sc.Decision.SignificantIncident,
		EstablishmentRegions: upper(sc.Facts.EstablishmentRegions), MainEstablishment: strings.ToUpper(sc.Facts.MainEstablishment),
		PublicTask: sc.Facts.PublicTask}
	sc.Facts.Establishments = rf.Establishments
	sc.Facts.EstablishmentRegions, sc.Facts.MainEstablishment = rf.EstablishmentRegions, rf.MainEstablishment
	if err := rf.Validate(); err != nil {
		var ue *rules.UsageError
		if errors.As(err, &ue) {
			section := "facts"
			if ue.Field == "risk" {
				section = "decision"
			}
			field := section + "." + ue.Field
			return p.fail(lineOfField(p.root, field), field, "%s", ue.Msg)
		}
		return p.fail(p.line("facts"), "facts", "%v", err)
	}
	return nil
}

// checkDecision fills in the default decision and checks that the notices it asks for agree
// with the risk found (Art. 34(1)).
func (p *parser) checkDecision(sc *Scenario) error {
	d := &sc.Decision
	if d.Risk == "" {
		// The conservative default exercises every step: high risk, customers told.
		d.Risk = "high"
		d.NotifySubjects = !d.EncryptedUnintelligible
	}
	if d.NotifySubjects && d.Risk != "high" {
		return p.fail(p.line("decision", "notify_subjects"), "decision.notify_subjects", "customer notices go out only on a high-risk finding (Art. 34(1)); risk is %q", d.Risk)
	}
	if d.Risk == "high" && !d.NotifySubjects && !d.EncryptedUnintelligible {
		return p.fail(p.line("decision", "risk"), "decision.notify_subjects", "a high risk requires telling the data subjects (Art. 34(1)) unless the data is unintelligible; set notify_subjects or encrypted_unintelligible")
	}
	if strings.TrimSpace(d.Reasoning) == "" {
		d.Reasoning = "Drill scenario " + sc.Name + ": " + sc.Title
	}
	return nil
}

// checkRoles checks the identities the simulated DPO and commander act as.
func (p *parser) checkRoles(sc *Scenario) error {
	for _, r := range []struct {
		key string
		p   Persona
	}{{"dpo", sc.Roles.DPO}, {"commander", sc.Roles.Commander}} {
		if strings.ContainsAny(r.p.As, " \t") {
			return p.fail(p.line("roles", r.key, "as"), "roles."+r.key+".as", "identity %q must not contain spaces", r.p.As)
		}
	}
	return nil
}

// checkInjects checks that every inject says something and falls within the drill, and puts
// them in time order.
func (p *parser) checkInjects(sc *Scenario) error {
	for i := range sc.Injects {
		in := sc.Injects[i]
		field := fmt.Sprintf("injects[%d]", i)
		if strings.TrimSpace(in.Text) == "" {
			return p.fail(p.line("injects", i), field+".text", "required: what the team learns at T+%s", in.At)
		}
		if in.At > sc.Duration {
			return p.fail(p.line("injects", i, "at"), field+".at", "T+%s is after the drill's end at T+%s; move it earlier or lengthen duration", in.At, sc.Duration)
		}
	}
	sort.SliceStable(sc.Injects, func(i, j int) bool { return sc.Injects[i].At < sc.Injects[j].At })
	return nil
}

// readSteps reads the targets and the responses, the two mappings keyed by workflow step.
func (p *parser) readSteps(sc *Scenario, f *file) error {
	targets, err := stepMap(p.name, p.root, &f.Targets, "targets", sc.Systems, false)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.Delay <= 0 {
			return p.fail(p.line("targets", t.Step), "targets."+t.Step, "must be longer than zero")
		}
		sc.Targets = append(sc.Targets, Target{Step: t.Step, Within: t.Delay})
	}
	if sc.Responses, err = stepMap(p.name, p.root, &f.Responses, "responses", sc.Systems, true); err != nil {
		return err
	}
	return nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func upper(list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, strings.ToUpper(strings.TrimSpace(s)))
	}
	return out
}

// stepMap reads a mapping of step names to durations, in file order.
func stepMap(name string, root, n *yaml.Node, section string, systems []string, human bool) ([]StepDelay, error) {
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: n.Line, Field: section, Msg: "a mapping of step: duration, like contain: 30m"}
	}
	var out []StepDelay
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := section + "." + k.Value
		if err := CheckStep(k.Value, systems, human); err != nil {
			return nil, &Error{File: name, Line: k.Line, Field: field, Msg: err.Error()}
		}
		var d Duration
		if err := v.Decode(&d); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.File, e.Field = name, field
				return nil, e
			}
			return nil, &Error{File: name, Line: v.Line, Field: field, Msg: err.Error()}
		}
		out = append(out, StepDelay{Step: k.Value, Delay: d})
	}
	return out, nil
}

// CheckStep says why step is not one a target (or, with human, a response delay) can name.
func CheckStep(step string, systems []string, human bool) error {
	base, arg, narrowed := strings.Cut(step, ":")
	var known []string
	if human {
		known = []string{StepDecide, StepApprove, StepFile, StepIsolate, StepClose}
	} else {
		known = []string{StepContain, StepScope, StepDecide, StepApprove, StepFile, StepNotify, StepClose}
	}
	ok := false
	for _, k := range known {
		ok = ok || k == base
	}
	if !ok {
		return fmt.Errorf("unknown step %q; use one of %s (approve, file and %s may name one obligation or system after a colon)",
			step, strings.Join(known, ", "), map[bool]string{true: "isolate", false: "contain"}[human])
	}
	if !narrowed {
		return nil
	}
	switch base {
	case StepApprove, StepFile:
		for _, id := range rules.ObligationIDs() {
			if id == arg {
				return nil
			}
		}
		return fmt.Errorf("unknown obligation %q in step %q; use one of %s", arg, step, strings.Join(rules.ObligationIDs(), ", "))
	case StepContain, StepIsolate:
		for _, s := range systems {
			if s == arg {
				return nil
			}
		}
		return fmt.Errorf("step %q names system %q, which is not among this scenario's systems (%s)", step, arg, strings.Join(systems, ", "))
	}
	return fmt.Errorf("step %q takes no qualifier after the colon", step)
}

// DelayFor is the simulated response delay of a pending step: the scenario's response for the
// exact step, then for its kind, then the role's delay.
func (s Scenario) DelayFor(step string) Duration {
	base, _, _ := strings.Cut(step, ":")
	for _, want := range []string{step, base} {
		for _, r := range s.Responses {
			if r.Step == want {
				return r.Delay
			}
		}
	}
	if RoleOf(step) == "commander" {
		return s.Roles.Commander.Delay
	}
	return s.Roles.DPO.Delay
}

var (
	lineRE    = regexp.MustCompile(`line (\d+): (.*)`)
	unknownRE = regexp.MustCompile(`field (\S+) not found in type`)
)

// yamlError turns a yaml.v3 error into an *Error with the line and the field.
func yamlError(name string, root *yaml.Node, err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.File = name
		if e.Field == "" {
			e.Field = fieldAt(root, e.Line)
		}
		return e
	}
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: name, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	ln, _ := strconv.Atoi(m[1])
	detail := m[2]
	if u := unknownRE.FindStringSubmatch(detail); u != nil {
		field := fieldAt(root, ln)
		if field == "" {
			field = u[1]
		}
		return &Error{File: name, Line: ln, Field: field, Msg: fmt.Sprintf("unknown field %q; check the spelling against examples/scenarios/", u[1])}
	}
	return &Error{File: name, Line: ln, Field: fieldAt(root, ln), Msg: detail}
}

// lineOf finds the line of the value at path (mapping keys and sequence indexes); for a missing
// leaf, the line of the nearest parent.
func lineOf(root *yaml.Node, path ...any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						line = n.Content[i].Line
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// lineOfField is lineOf for a dotted field with [i] indexes: facts.sectors[1].
func lineOfField(root *yaml.Node, field string) int {
	var path []any
	for _, part := range strings.Split(field, ".") {
		name, idx, ok := strings.Cut(part, "[")
		path = append(path, name)
		if ok {
			if i, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); err == nil {
				path = append(path, i)
			}
		}
	}
	return lineOf(root, path...)
}

// fieldAt names the deepest field whose key (or list item) is on line.
func fieldAt(root *yaml.Node, line int) string {
	var walk func(n *yaml.Node, prefix string) string
	walk = func(n *yaml.Node, prefix string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, prefix); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if prefix != "" {
					p = prefix + "." + k.Value
				}
				if sub := walk(v, p); sub != "" {
					return sub
				}
				if k.Line == line {
					return p
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", prefix, i)
				if sub := walk(c, p); sub != "" {
					return sub
				}
				if c.Line == line && c.Kind == yaml.ScalarNode {
					return p
				}
			}
		}
		return ""
	}
	return walk(root, "")
}
