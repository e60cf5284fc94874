package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/spelling"
)

// The rules refuse facts they cannot evaluate with a *rules.UsageError naming the fact. The
// functions here say, to the person acting, which fact is wrong, where it came from and who can
// correct it. They run in validators and before a start, never in the workflow's plan.

// organisationFact explains a refusal of one of the organisation's facts, which come from the
// configuration at declaration. ok is false when the refusal is about another fact.
func organisationFact(o incident.Organisation, ue *rules.UsageError) (msg string, ok bool) {
	name, i := splitIndex(ue.Field)
	var what, fix string
	switch {
	case name == "sectors" && i >= 0 && i < len(o.Sectors):
		what = fmt.Sprintf("sector %q is unknown to the rulebook", o.Sectors[i])
		fix = "known sectors are " + strings.Join(rules.SectorNames(), ", ") + didYouMean(o.Sectors[i], rules.SectorNames()) +
			"; list only those that apply, or none"
	case name == "establishments" && i >= 0 && i < len(o.Establishments):
		what = fmt.Sprintf("establishment %q is not a jurisdiction the rulebook knows", o.Establishments[i])
		fix = rules.JurisdictionHint(o.Establishments[i])
	case name == "role":
		what = fmt.Sprintf("role %q is unknown to the rulebook", o.Role)
		fix = "known roles are " + strings.Join(rules.Roles(), ", ") + didYouMean(o.Role, rules.Roles())
	case name == "timezone":
		what = fmt.Sprintf("time zone %q cannot be used by the rulebook", o.Timezone)
		fix = "write an IANA name such as Europe/Berlin"
	case name == "establishment_regions" || name == "main_establishment":
		what = "establishments do not tell the competent GDPR authority"
		fix = ue.Msg
	default:
		return "", false
	}
	return fmt.Sprintf("the organisation's %s; the configuration (breach.yaml, organisation.%s) must be corrected: %s", what, name, fix), true
}

// checkOrganisation refuses organisation facts the rules cannot evaluate.
func checkOrganisation(d incident.Declaration) error {
	o := d.Organisation
	f := rules.Facts{AwareAt: d.AwareAt, Timezone: o.Timezone, Role: o.Role, Establishments: o.Establishments, Sectors: o.Sectors,
		EstablishmentRegions: o.EstablishmentRegions, MainEstablishment: o.MainEstablishment, PublicTask: o.PublicTask}
	err := f.Validate()
	if err == nil {
		return nil
	}
	var ue *rules.UsageError
	if errors.As(err, &ue) {
		if msg, ok := organisationFact(o, ue); ok {
			return errors.New("declaration: " + msg)
		}
	}
	return fmt.Errorf("declaration: the rules cannot evaluate the organisation's facts: %w", err)
}

// unevaluable explains why the rules refused an incident's facts when a person sent what (a
// decision, an amendment).
func (inc *incidentImpl) unevaluable(err error, what string) error {
	var ue *rules.UsageError
	if !errors.As(err, &ue) {
		return fmt.Errorf("the rules cannot evaluate this incident's facts: %w", err)
	}
	id := inc.decl.IncidentID
	if msg, ok := organisationFact(inc.decl.Organisation, ue); ok {
		if inc.decl.Drill {
			name, _ := splitIndex(ue.Field)
			msg += fmt.Sprintf(" (or, in a drill, the scenario's facts.%s)", name)
		}
		return fmt.Errorf("%s. Incident %s keeps the organisation facts it was declared with, so no %s can be recorded in it: "+
			"once the configuration is corrected, declare the breach again, and cancel %s (in the Temporal UI, or temporal workflow cancel --workflow-id %s)",
			msg, id, what, id, incident.IncidentWorkflowID(id))
	}
	name, _ := splitIndex(ue.Field)
	switch name {
	case "risk", "materiality_determined_at", "significant_incident", "encrypted_unintelligible":
		return fmt.Errorf("the %s's %s: %s; the DPO can send the %s again with it corrected", what, ue.Field, ue.Msg, what)
	}
	return fmt.Errorf("the rules cannot evaluate incident %s's %s: %s", id, ue.Field, ue.Msg)
}

// splitIndex splits "sectors[2]" into "sectors" and 2; i is -1 without an index.
func splitIndex(field string) (name string, i int) {
	name, rest, ok := strings.Cut(field, "[")
	if !ok {
		return field, -1
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	if err != nil {
		return name, -1
	}
	return name, n
}

func didYouMean(word string, known []string) string {
	if n := spelling.Nearest(word, known); n != "" {
		return " (did you mean " + n + "?)"
	}
	return ""
}
