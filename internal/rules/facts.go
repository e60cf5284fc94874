package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// UsageError is bad input: it names the offending field and says how to fix it. Callers map it
// to exit code 2 (CLI) or to a rejected Update (workflow).
type UsageError struct {
	Field string
	Msg   string
}

func (e *UsageError) Error() string { return e.Field + ": " + e.Msg }

func usage(field, format string, args ...any) *UsageError {
	return &UsageError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// The accepted values of the enumerated facts; the sectors are data (sectors.yaml).
var (
	roles = []string{"controller", "processor"}
	risks = []string{"unlikely", "risk", "high"}
)

const factsFields = "aware_at, timezone, role, establishments, establishment_regions, main_establishment, public_task, " +
	"sectors, subjects_by_jurisdiction, data_categories, risk, encrypted_unintelligible, materiality_determined_at, " +
	"significant_incident, classified_major_at, assessed_at, wrongful_purpose, external_unlawful_access, submitted"

// factsJSON mirrors Facts with times as strings, so a bad time is reported with its field name
// and a time without an offset is refused.
type factsJSON struct {
	AwareAt                 *string                    `json:"aware_at"`
	Timezone                string                     `json:"timezone"`
	Role                    string                     `json:"role"`
	Establishments          []string                   `json:"establishments"`
	Sectors                 []string                   `json:"sectors"`
	SubjectsByJurisdiction  map[string]json.RawMessage `json:"subjects_by_jurisdiction"`
	DataCategories          []string                   `json:"data_categories"`
	Risk                    string                     `json:"risk"`
	EncryptedUnintelligible bool                       `json:"encrypted_unintelligible"`
	MaterialityDeterminedAt *string                    `json:"materiality_determined_at"`
	SignificantIncident     bool                       `json:"significant_incident"`
	Submitted               map[string]string          `json:"submitted"`
	EstablishmentRegions    []string                   `json:"establishment_regions"`
	MainEstablishment       string                     `json:"main_establishment"`
	PublicTask              bool                       `json:"public_task"`
	ClassifiedMajorAt       *string                    `json:"classified_major_at"`
	AssessedAt              *string                    `json:"assessed_at"`
	WrongfulPurpose         bool                       `json:"wrongful_purpose"`
	ExternalUnlawfulAccess  bool                       `json:"external_unlawful_access"`
}

// MaxFactsBytes bounds a facts document. Facts are counts and a few words, never subject lists:
// a real one is under 10 KiB, so 1 MiB leaves ample room and keeps a wrong file (a dataset, a
// device) from being read into memory.
const MaxFactsBytes = 1 << 20

// ReadFacts reads one facts document from r, at most MaxFactsBytes, and parses it as ParseFacts
// does. A longer input is refused with a *UsageError naming the limit, after reading no more
// than one byte past it.
func ReadFacts(r io.Reader) (Facts, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFactsBytes+1))
	if err != nil {
		return Facts{}, usage("facts", "cannot read: %v", err)
	}
	return ParseFacts(data)
}

// ParseFacts decodes facts from strict JSON: unknown or duplicate fields, trailing data, times
// without an explicit UTC offset, data categories outside the vocabulary (categories.yaml) and
// every check of Validate are refused with a *UsageError. A document longer than MaxFactsBytes
// is refused before it is parsed.
func ParseFacts(data []byte) (Facts, error) {
	raw, err := decodeFacts(data)
	if err != nil {
		return Facts{}, err
	}
	f := Facts{
		Timezone:                raw.Timezone,
		Role:                    raw.Role,
		Establishments:          raw.Establishments,
		Sectors:                 raw.Sectors,
		DataCategories:          raw.DataCategories,
		Risk:                    raw.Risk,
		EncryptedUnintelligible: raw.EncryptedUnintelligible,
		SignificantIncident:     raw.SignificantIncident,
		EstablishmentRegions:    raw.EstablishmentRegions,
		MainEstablishment:       raw.MainEstablishment,
		PublicTask:              raw.PublicTask,
		WrongfulPurpose:         raw.WrongfulPurpose,
		ExternalUnlawfulAccess:  raw.ExternalUnlawfulAccess,
	}
	if raw.AwareAt == nil {
		return Facts{}, usage("aware_at", "required: the instant the organisation became aware, RFC 3339 with offset (2026-03-01T09:30:00+01:00)")
	}
	if f.AwareAt, err = parseInstant("aware_at", *raw.AwareAt); err != nil {
		return Facts{}, err
	}
	if f.SubjectsByJurisdiction, err = parseSubjects(raw.SubjectsByJurisdiction); err != nil {
		return Facts{}, err
	}
	if err := parseOptionalTimes(&raw, &f); err != nil {
		return Facts{}, err
	}
	if f.Submitted, err = parseSubmitted(raw.Submitted); err != nil {
		return Facts{}, err
	}
	if err := f.Validate(); err != nil {
		return Facts{}, err
	}
	// Checked here, not in Validate: workflows evaluate facts built from scopes recorded before
	// the vocabulary was closed, and must evaluate them as they did then.
	for i, c := range f.DataCategories {
		if !KnownCategory(strings.ToLower(strings.TrimSpace(c))) {
			return Facts{}, usage(fmt.Sprintf("data_categories[%d]", i), "not a data category the rules know (the value is not repeated here); use one of %s",
				strings.Join(CategoryNames(), ", "))
		}
	}
	return f, nil
}

// decodeFacts decodes the document strictly into factsJSON: within the size limit, no
// duplicate or unknown fields, and nothing after the one object.
func decodeFacts(data []byte) (factsJSON, error) {
	if len(data) > MaxFactsBytes {
		return factsJSON{}, usage("facts", "larger than %d bytes (1 MiB), the limit of a facts document; facts are counts, not subject lists", MaxFactsBytes)
	}
	if err := checkDuplicateKeys(data); err != nil {
		return factsJSON{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw factsJSON
	if err := dec.Decode(&raw); err != nil {
		return factsJSON{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return factsJSON{}, usage("facts", "unexpected data after the JSON object; give exactly one object")
	}
	return raw, nil
}

// parseSubjects decodes the subjects by jurisdiction one by one, in code order, so an error
// names the jurisdiction, not just the map. A missing map stays nil.
func parseSubjects(raw map[string]json.RawMessage) (map[string]int, error) {
	if raw == nil {
		return nil, nil
	}
	out := make(map[string]int, len(raw))
	for _, code := range sortedKeys(raw) {
		field := "subjects_by_jurisdiction." + code
		if !validJurisdiction(code) {
			return nil, usage(field, "unknown jurisdiction code %q; %s", code, jurisdictionHint(code))
		}
		var n int
		v := raw[code]
		if string(v) == "null" || json.Unmarshal(v, &n) != nil {
			return nil, usage(field, "expected a whole number of affected subjects, got %.40s", v)
		}
		out[code] = n
	}
	return out, nil
}

// parseOptionalTimes parses the instants that may be absent: materiality_determined_at,
// classified_major_at and assessed_at, in that order.
func parseOptionalTimes(raw *factsJSON, f *Facts) error {
	if raw.MaterialityDeterminedAt != nil {
		t, err := parseInstant("materiality_determined_at", *raw.MaterialityDeterminedAt)
		if err != nil {
			return err
		}
		f.MaterialityDeterminedAt = &t
	}
	for _, opt := range []struct {
		field string
		raw   *string
		dst   **time.Time
	}{{"classified_major_at", raw.ClassifiedMajorAt, &f.ClassifiedMajorAt}, {"assessed_at", raw.AssessedAt, &f.AssessedAt}} {
		if opt.raw == nil {
			continue
		}
		t, err := parseInstant(opt.field, *opt.raw)
		if err != nil {
			return err
		}
		*opt.dst = &t
	}
	return nil
}

// parseSubmitted parses when each obligation was submitted, in id order, refusing an
// obligation the rules do not know. A missing map stays nil.
func parseSubmitted(raw map[string]string) (map[string]time.Time, error) {
	if raw == nil {
		return nil, nil
	}
	out := make(map[string]time.Time, len(raw))
	for _, id := range sortedKeys(raw) {
		field := "submitted." + id
		if !KnownObligation(id) {
			return nil, unknownObligation(field, id)
		}
		t, err := parseInstant(field, raw[id])
		if err != nil {
			return nil, err
		}
		out[id] = t
	}
	return out, nil
}

// Validate checks facts built in code (the workflow's decision Update) the way ParseFacts checks
// JSON. It returns nil or a *UsageError naming the first bad field.
func (f Facts) Validate() error {
	if f.AwareAt.IsZero() {
		return usage("aware_at", "required: the instant the organisation became aware, RFC 3339 with offset (2026-03-01T09:30:00+01:00)")
	}
	if f.Timezone != "" {
		if _, err := validTimezone(f.Timezone); err != nil {
			return err
		}
	}
	if f.Role != "" && !oneOf(f.Role, roles) {
		return usage("role", "unknown role %q%s; use one of %s", f.Role, didYouMean(f.Role, roles), strings.Join(roles, ", "))
	}
	if f.Risk != "" && !oneOf(f.Risk, risks) {
		return usage("risk", "unknown risk %q; use one of %s (or omit it until the DPO decides)", f.Risk, strings.Join(risks, ", "))
	}
	for i, s := range f.Sectors {
		if !KnownSector(s) {
			return usage(fmt.Sprintf("sectors[%d]", i), "unknown sector %q%s; the rules know %s: list those that apply, or none",
				s, didYouMean(s, SectorNames()), sectorList())
		}
	}
	for i, c := range f.Establishments {
		if !validJurisdiction(c) {
			return usage(fmt.Sprintf("establishments[%d]", i), "unknown jurisdiction code %q; %s", c, jurisdictionHint(c))
		}
	}
	for _, c := range sortedKeys(f.SubjectsByJurisdiction) {
		field := "subjects_by_jurisdiction." + c
		if !validJurisdiction(c) {
			return usage(field, "unknown jurisdiction code %q; %s", c, jurisdictionHint(c))
		}
		if n := f.SubjectsByJurisdiction[c]; n < 0 {
			return usage(field, "negative count %d; give the number of affected subjects, 0 or more", n)
		}
	}
	for i, c := range f.DataCategories {
		if strings.TrimSpace(c) == "" {
			return usage(fmt.Sprintf("data_categories[%d]", i), "empty category; remove it or name the category (health, financial, ...)")
		}
	}
	if f.MaterialityDeterminedAt != nil && f.MaterialityDeterminedAt.IsZero() {
		return usage("materiality_determined_at", "zero time; omit the field until materiality is determined")
	}
	for _, id := range sortedKeys(f.Submitted) {
		field := "submitted." + id
		if !KnownObligation(id) {
			return unknownObligation(field, id)
		}
		if f.Submitted[id].IsZero() {
			return usage(field, "zero time; give the instant the filing was submitted, RFC 3339 with offset")
		}
	}
	for _, t := range []struct {
		field, what string
		at          *time.Time
	}{{"classified_major_at", "the incident was classified as major", f.ClassifiedMajorAt}, {"assessed_at", "the breach was assessed", f.AssessedAt}} {
		switch {
		case t.at == nil:
		case t.at.IsZero():
			return usage(t.field, "zero time; omit the field until %s", t.what)
		case t.at.Before(f.AwareAt):
			return usage(t.field, "%s is before aware_at (%s): %s only after becoming aware of it; check both times",
				t.at.UTC().Format(time.RFC3339), f.AwareAt.UTC().Format(time.RFC3339), t.what)
		}
	}
	if err := rulebook.checkOrganisation(f.organisation()); err != nil {
		return err
	}
	return nil
}

func unknownObligation(field, id string) *UsageError {
	return usage(field, "unknown obligation id %q%s; use one of %s, or %s<authority code> for a resolved authority (breach authorities lists the codes)",
		id, didYouMean(id, append(ObligationIDs(), AuthorityObligationIDs()...)), strings.Join(ObligationIDs(), ", "), gdprAuthorityID+"-")
}

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if s == v {
			return true
		}
	}
	return false
}

// parseInstant accepts RFC 3339 with an explicit offset only. "-00:00" is refused too: RFC 3339
// defines it as "offset unknown".
func parseInstant(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		if strings.HasSuffix(s, "-00:00") {
			return time.Time{}, usage(field, "%q has offset -00:00, which RFC 3339 defines as unknown; give the real offset or Z", s)
		}
		return t, nil
	}
	if _, errLocal := time.Parse("2006-01-02T15:04:05.999999999", s); errLocal == nil {
		return time.Time{}, usage(field, "%q has no UTC offset; append Z or the offset, e.g. %s+01:00", s, s)
	}
	return time.Time{}, usage(field, "%q is not an RFC 3339 time; write e.g. 2026-03-01T09:30:00+01:00 or 2026-03-01T08:30:00Z", s)
}

var zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$`)

// validTimezone loads an IANA zone. "Local" is refused (it differs between machines); names are
// checked for shape first so no odd path reaches the zoneinfo lookup.
func validTimezone(name string) (*time.Location, error) {
	if name == "Local" || len(name) > 64 || !zoneName.MatchString(name) {
		return nil, usage("timezone", "%q is not an IANA time zone name; write e.g. Europe/Berlin or America/New_York", name)
	}
	loc, err := location(name)
	if err != nil {
		return nil, usage("timezone", "unknown IANA time zone %q; write e.g. Europe/Berlin or America/New_York", name)
	}
	return loc, nil
}

// jsonError turns encoding/json's errors into a UsageError naming the field.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "facts"
		}
		return usage(field, "expected %s, got JSON %s", jsonKind(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return usage("facts", "invalid JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return usage("facts", "empty or truncated JSON; give one object with at least aware_at")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name = strings.Trim(name, `"`); name == "" {
			return usage("facts", "unknown field \"\" (empty name); the fields are %s", factsFields)
		}
		return usage(name, "unknown field; the fields are %s", factsFields)
	}
	return usage("facts", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goType string) string {
	switch goType {
	case "int":
		return "a whole number"
	case "string", "*string":
		return "a string"
	case "bool":
		return "true or false"
	case "[]string":
		return "an array of strings"
	case "rules.factsJSON":
		return "an object"
	}
	if strings.HasPrefix(goType, "map[") {
		return "an object"
	}
	return goType
}

// checkDuplicateKeys refuses an object that gives the same key twice: encoding/json would keep
// the last silently, and "risk" given twice is ambiguous. Syntax errors are left to the decoder.
func checkDuplicateKeys(data []byte) error {
	type frame struct {
		object  bool
		wantKey bool
		path    string
		key     string
		keys    map[string]bool
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*frame
	childPath := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if !top.object {
			return top.path
		}
		if top.path == "" {
			return top.key
		}
		return top.path + "." + top.key
	}
	valueDone := func() {
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.object && top.wantKey {
				if key, ok := tok.(string); ok {
					if top.keys[key] {
						field := key
						if key == "" {
							field = `""`
						}
						if top.path != "" {
							field = top.path + "." + key
						}
						return usage(field, "given twice; give each field once")
					}
					top.keys[key] = true
					top.key = key
					top.wantKey = false
					continue
				}
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, path: childPath(), keys: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{path: childPath()})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}
