package config

import (
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"

	bmail "github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/rules"
)

// check refuses a configuration that cannot work, against the rules' vocabulary: whatever an
// incident would carry from here must be something the rules can evaluate and the plan can use.
// Every problem is reported, in line order.
func (c *Config) check(file string, pos positions) Problems {
	var p Problems
	add := func(field, format string, args ...any) {
		p = append(p, &Error{File: file, Line: pos.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	c.checkOrganisation(add)
	c.checkIdentities(add, "roles.dpo", c.Roles.DPO)
	c.checkIdentities(add, "roles.commander", c.Roles.Commander)
	c.checkRoutes(add, pos)
	if c.Datasets.MaxBytes < 0 {
		add("datasets.max_bytes", "%d is negative: give the largest dataset in bytes, or leave it out for 4 GiB", c.Datasets.MaxBytes)
	}
	sort.SliceStable(p, func(i, j int) bool { return p[i].Line < p[j].Line })
	return p
}

type addFunc func(field, format string, args ...any)

func (c *Config) checkOrganisation(add addFunc) {
	o := c.Organisation
	if o.Timezone != "" {
		switch err := rules.CheckTimezone(o.Timezone); {
		case err != nil && o.Timezone == "Local":
			add("organisation.timezone", "Local is this machine's zone, which differs between machines; write the IANA name of the organisation's zone, such as Europe/Berlin")
		case err != nil:
			add("organisation.timezone", "%q is not a time zone the rules can use: write an IANA name such as Europe/Berlin or America/New_York", o.Timezone)
		}
	}
	if o.Role != "" && !slices.Contains(rules.Roles(), o.Role) {
		add("organisation.role", "unknown role %q%s; write %s", o.Role, didYouMean(o.Role, rules.Roles()), strings.Join(rules.Roles(), " or "))
	}
	for i, e := range o.Establishments {
		if !rules.KnownJurisdiction(strings.ToUpper(e)) {
			add(fmt.Sprintf("organisation.establishments[%d]", i), "%q is not a jurisdiction the rules know; %s", e, rules.JurisdictionHint(e))
		}
	}
	for i, s := range o.Sectors {
		if !rules.KnownSector(s) {
			add(fmt.Sprintf("organisation.sectors[%d]", i), "unknown sector %q%s; the rules know %s. List only those that apply, or none: other sectors change no obligation",
				s, didYouMean(s, rules.SectorNames()), knownSectors())
		}
	}
	if !bmail.ValidAddress(o.MailFrom) {
		add("organisation.mail_from", "%q is not an email address reports and notices can be sent from; %s", o.MailFrom, addressFix(o.MailFrom, "privacy@example.com", ""))
	}
}

func knownSectors() string {
	var parts []string
	for _, s := range rules.Sectors() {
		parts = append(parts, s.Name+" ("+s.Title+")")
	}
	return strings.Join(parts, ", ")
}

// checkIdentities: an identity is compared exactly with --as or the Slack user id, so an empty
// one, one with spaces around it, or one listed twice is a mistake.
func (c *Config) checkIdentities(add addFunc, field string, ids []string) {
	first := map[string]int{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		trimmed := strings.TrimSpace(id)
		switch {
		case trimmed == "":
			add(f, "empty identity; write the person's CLI name or Slack user id, or remove the entry")
			continue
		case trimmed != id:
			again := ""
			if j, ok := first[trimmed]; ok {
				again = fmt.Sprintf(" (it is already %s[%d]: remove this entry)", field, j)
			}
			add(f, "%q has spaces around it and would never match --as; write %q%s", id, trimmed, again)
		default:
			if j, ok := first[trimmed]; ok {
				add(f, "%q is listed twice (also %s[%d]); remove one", id, field, j)
			}
		}
		if _, ok := first[trimmed]; !ok {
			first[trimmed] = i
		}
	}
}

func (c *Config) checkRoutes(add addFunc, pos positions) {
	ids := rules.ObligationIDs()
	first := map[string]string{}
	for i, r := range c.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		switch {
		case strings.TrimSpace(r.Obligation) == "":
			add(f+".obligation", "missing: name the obligation this route is for, one of %s", strings.Join(ids, ", "))
		case !rules.KnownObligation(r.Obligation):
			add(f+".obligation", "unknown obligation id %q%s; the rules know %s", r.Obligation, didYouMean(r.Obligation, ids), strings.Join(ids, ", "))
		case first[r.Obligation] != "":
			add(f+".obligation", "a second route for %s (the first is %s, line %d); keep one", r.Obligation, first[r.Obligation], pos.line(first[r.Obligation]))
		default:
			first[r.Obligation] = f
		}
		switch r.Method {
		case "email":
			switch {
			case r.Address == "":
				add(f+".address", "method email needs the authority's address, e.g. breach-reports@authority.example; or use method portal")
			case !bmail.ValidAddress(r.Address):
				add(f+".address", "%q is not an email address the report can be sent to; %s", r.Address, addressFix(r.Address, "breach-reports@authority.example", " (the authority's name goes in name:)"))
			}
		case "portal":
		case "":
			add(f+".method", "missing: write email (the plan sends the report) or portal (a person files it and confirms with breach file)")
		default:
			add(f+".method", "unknown method %q%s; write email or portal", r.Method, didYouMean(r.Method, []string{"email", "portal"}))
		}
	}
}

// addressFix says how to write an address as one bare RFC 5322 address; nameHint says where a
// display name goes instead.
func addressFix(s, example, nameHint string) string {
	if a, err := mail.ParseAddress(s); err == nil && bmail.ValidAddress(a.Address) && a.Address != s {
		return "write the bare address " + a.Address + nameHint
	}
	return "write one bare address such as " + example
}
