package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `name: lost-laptop
title: Unencrypted laptop lost on a train
systems: [laptop-sales-17]
subjects: subjects.csv
duration: 3d
facts:
  establishments: [de]
decision:
  risk: high
  notify_subjects: true
roles:
  dpo: {as: drill-dpo, delay: 45m}
  commander:
    as: drill-ic
    delay: 10m
responses:
  decide: 3h
  approve:gdpr-art33-authority: 2h
injects:
  - at: T+2h
    text: The laptop is offered for sale online.
  - at: 20m
    text: The employee remembers the disk was not encrypted.
targets:
  contain: 30m
  decide: 4h
  approve: 24h
  file:gdpr-art33-authority: 72h
  close: 3d
`

func TestParseGood(t *testing.T) {
	sc, err := Parse("lost-laptop.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "lost-laptop" || sc.Duration.D() != 72*time.Hour || sc.Facts.Establishments[0] != "DE" {
		t.Fatalf("parsed %+v", sc)
	}
	if len(sc.Injects) != 2 || sc.Injects[0].At.D() != 20*time.Minute || sc.Injects[1].At.D() != 2*time.Hour {
		t.Fatalf("injects not in time order: %+v", sc.Injects)
	}
	var steps []string
	for _, tg := range sc.Targets {
		steps = append(steps, tg.Step+"="+tg.Within.String())
	}
	if got := strings.Join(steps, " "); got != "contain=30m decide=4h approve=1d file:gdpr-art33-authority=3d close=3d" {
		t.Fatalf("targets %s", got)
	}
	for step, want := range map[string]time.Duration{
		"decide": 3 * time.Hour, "report:x": 45 * time.Minute, "approve:gdpr-art33-authority": 2 * time.Hour,
		"approve:uk-ico": 45 * time.Minute, "close": 10 * time.Minute, "isolate:laptop-sales-17": 10 * time.Minute,
	} {
		if got := sc.DelayFor(step).D(); got != want {
			t.Errorf("DelayFor(%s) = %s, want %s", step, got, want)
		}
	}
	if sc.Decision.Reasoning == "" {
		t.Error("a missing reasoning should get a default, the DPO's Update requires one")
	}
}

// Each bad input names its line and field.
func TestParseBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line       int
		field      string
		msg        string
	}{
		{"unknown top-level field", "title: T\nsystems: [a]\nsubjects: s.csv\ntargest:\n  contain: 30m\n", 4, "targest", `unknown field "targest"`},
		{"unknown nested field", "title: T\nsystems: [a]\nsubjects: s.csv\nroles:\n  dpo:\n    as: x\n    dealy: 10m\n", 7, "roles.dpo.dealy", `unknown field "dealy"`},
		{"unknown inject field", "title: T\nsystems: [a]\nsubjects: s.csv\ninjects:\n  - at: 1h\n    txt: hi\n", 6, "injects[0].txt", `unknown field "txt"`},
		{"target for an unknown step", "title: T\nsystems: [a]\nsubjects: s.csv\ntargets:\n  contain: 30m\n  contian: 1h\n", 6, "targets.contian", `unknown step "contian"`},
		{"target for an unknown obligation", "title: T\nsystems: [a]\nsubjects: s.csv\ntargets:\n  approve:gdpr-art99: 1h\n", 5, "targets.approve:gdpr-art99", `unknown obligation "gdpr-art99"`},
		{"target for a system not in the scenario", "title: T\nsystems: [a]\nsubjects: s.csv\ntargets:\n  contain:b: 1h\n", 5, "targets.contain:b", `not among this scenario's systems`},
		{"response for a step nobody answers", "title: T\nsystems: [a]\nsubjects: s.csv\nresponses:\n  scope: 1h\n", 5, "responses.scope", `unknown step "scope"`},
		{"inject after the drill's end", "title: T\nsystems: [a]\nsubjects: s.csv\nduration: 4h\ninjects:\n  - at: 1h\n    text: ok\n  - at: 5h\n    text: too late\n", 8, "injects[1].at", "after the drill's end at T+4h"},
		{"inject after the default end", "title: T\nsystems: [a]\nsubjects: s.csv\ninjects:\n  - {at: 4d, text: late}\n", 5, "injects[0].at", "after the drill's end at T+3d"},
		{"invalid cron expression", "title: T\nsystems: [a]\nsubjects: s.csv\nschedule: \"61 9 * * 1\"\n", 4, "schedule", "minute field \"61\""},
		{"cron with too few fields", "title: T\nsystems: [a]\nsubjects: s.csv\nschedule: \"0 9 *\"\n", 4, "schedule", "has 3 fields"},
		{"duration without a unit", "title: T\nsystems: [a]\nsubjects: s.csv\nduration: 72\n", 4, "duration", "a bare number has no unit"},
		{"bad target duration", "title: T\nsystems: [a]\nsubjects: s.csv\ntargets:\n  decide: soon\n", 5, "targets.decide", `"soon" is not a duration`},
		{"negative inject time", "title: T\nsystems: [a]\nsubjects: s.csv\ninjects:\n  - at: -5m\n    text: x\n", 5, "injects[0].at", "negative"},
		{"missing title", "systems: [a]\nsubjects: s.csv\n", 1, "title", "required"},
		{"inject without text", "title: T\nsystems: [a]\nsubjects: s.csv\ninjects:\n  - at: 5m\n", 5, "injects[0].text", "required"},
		{"unknown sector", "title: T\nsystems: [a]\nsubjects: s.csv\nfacts:\n  sectors: [health-covered-entity, bank]\n", 5, "facts.sectors[1]", `unknown sector "bank"`},
		{"unknown establishment", "title: T\nsystems: [a]\nsubjects: s.csv\nfacts:\n  establishments:\n    - DE\n    - XX\n", 7, "facts.establishments[1]", `unknown jurisdiction code "XX"`},
		{"unknown risk", "title: T\nsystems: [a]\nsubjects: s.csv\ndecision:\n  risk: severe\n", 5, "decision.risk", `unknown risk "severe"`},
		{"notices without high risk", "title: T\nsystems: [a]\nsubjects: s.csv\ndecision:\n  risk: risk\n  notify_subjects: true\n", 6, "decision.notify_subjects", "high-risk"},
		{"duplicate system", "title: T\nsystems:\n  - a\n  - a\nsubjects: s.csv\n", 4, "systems[1]", "named twice"},
		{"wrong type", "title: T\nsystems: a-single-string\nsubjects: s.csv\n", 2, "systems", "cannot unmarshal"},
		{"duplicate key", "title: T\ntitle: U\nsystems: [a]\nsubjects: s.csv\n", 2, "", "already defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse: %v, want a *scenario.Error", err)
			}
			if e.Line != tc.line || (tc.field != "" && e.Field != tc.field) || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("got line %d field %q msg %q (%v)\nwant line %d field %q msg containing %q", e.Line, e.Field, e.Msg, err, tc.line, tc.field, tc.msg)
			}
			if !strings.Contains(err.Error(), "bad.yaml line") {
				t.Fatalf("error %q does not name the file and line", err)
			}
		})
	}
}

func TestLoadResolvesTheDatasetBesideTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lost-laptop.yaml")
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var e *Error
	if !errors.As(err, &e) || e.Field != "subjects" || e.Line != 4 {
		t.Fatalf("missing dataset: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "subjects.csv"), []byte("id,email\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Subjects != filepath.Join(dir, "subjects.csv") {
		t.Fatalf("subjects %s", sc.Subjects)
	}
}

func TestExampleScenariosParse(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "examples", "scenarios", "*.yaml"))
	if len(paths) < 3 {
		t.Fatalf("want the three example scenarios, found %v", paths)
	}
	for _, p := range paths {
		if _, err := Load(p); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestValidateCron(t *testing.T) {
	for _, ok := range []string{"0 9 * * 1", "*/15 8-18 * * mon-fri", "0 0 1 jan,jul *", "@weekly", "@every 36h", "CRON_TZ=Europe/Berlin 30 9 * * 2", "0 9 * * 7"} {
		if err := ValidateCron(ok); err != nil {
			t.Errorf("ValidateCron(%q): %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                       "empty",
		"0 9 * *":                "has 4 fields",
		"0 24 * * *":             "hour field",
		"0 9 0 * *":              "day-of-month field",
		"0 9 * 13 *":             "month field",
		"0 9 * * funday":         "day-of-week field",
		"*/0 * * * *":            "step",
		"0 9-5 * * *":            "runs backwards",
		"@fortnightly":           "not a cron macro",
		"@every soon":            "@every",
		"CRON_TZ=Mars 0 9 * * *": "IANA",
	} {
		err := ValidateCron(bad)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateCron(%q) = %v, want an error about %s", bad, err, want)
		}
	}
}

func TestDurationText(t *testing.T) {
	for in, want := range map[string]string{"20m": "20m", "T+90m": "1h30m", "72h": "3d", "1d12h": "1d12h", "45s": "45s", "0m": "0m"} {
		d, err := ParseDuration(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if d.String() != want {
			t.Errorf("%s: %s, want %s", in, d, want)
		}
		b, _ := d.MarshalJSON()
		var back Duration
		if err := back.UnmarshalJSON(b); err != nil || back != d {
			t.Errorf("%s: JSON round trip %s -> %v %v", in, b, back, err)
		}
	}
}

// A scenario's organisation facts may say how the organisation is established, as a facts
// document would; codes are read in upper case and checked as the rules check them.
func TestParseEstablishmentFacts(t *testing.T) {
	base := "title: t\nsystems: [shop-db]\nsubjects: s.csv\n"
	sc, err := Parse("s.yaml", []byte(base+"facts:\n  establishments: [de]\n  establishment_regions: [de-be]\n  main_establishment: de-be\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Facts.EstablishmentRegions[0] != "DE-BE" || sc.Facts.MainEstablishment != "DE-BE" {
		t.Errorf("facts %+v, want the codes in upper case", sc.Facts)
	}
	_, err = Parse("s.yaml", []byte(base+"facts:\n  establishments: [DE]\n  main_establishment: DE\n"))
	var e *Error
	if !errors.As(err, &e) || e.Field != "facts.establishment_regions" || !strings.Contains(e.Msg, "DE-BE for Berlin") {
		t.Errorf("a German establishment without its Land: %v, want a refusal naming facts.establishment_regions", err)
	}
}
