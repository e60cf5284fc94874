package incident

import (
	"strings"

	"github.com/breachops/breach/internal/rules"
)

// Route methods.
const (
	// RouteEmail: the plan sends the approved report to the route's address.
	RouteEmail = "email"
	// RoutePortal: a person files the approved report (on the portal, by the form the
	// authority asks for) and confirms it with the authority's reference.
	RoutePortal = "portal"
)

// RouteFor is how the report of obligation o reaches its audience:
//  1. the configuration's route for its id (routes:), as given;
//  2. where the rules name the authority (o.Authority: from the directory, or resolved from the
//     organisation's facts), the authority's channel from the directory with the
//     configuration's changes (authorities:): an email address the configuration gives is one
//     agreed with the authority, and the report is sent there; otherwise a person files it
//     through the portal or form the directory names and confirms the filing. The directory's
//     own email addresses are shown, never sent to: its facts are research notes, to be checked
//     before they are relied on;
//  3. otherwise a person files it (portal), as before authorities were known.
//
// It is pure: workflows call it with what the incident was declared with and what the rules
// computed.
func RouteFor(o rules.Obligation, routes []Route, authorities []AuthorityContact) Route {
	ref := o.Authority
	for _, r := range routes {
		if r.Obligation != o.ID {
			continue
		}
		if ref != nil {
			r.Authority = ref.Code
			if r.Method != RouteEmail && r.Portal == "" && r.Channel == "" {
				r.Portal, r.Channel = ref.Portal, channelText(ref.Channel, ref.Email, ref.Phone)
			}
		}
		return r
	}
	if ref == nil {
		return Route{Obligation: o.ID, Method: RoutePortal}
	}
	name, channel, portal, email, phone := ref.Name, ref.Channel, ref.Portal, ref.Email, ref.Phone
	agreed := ""
	for _, c := range authorities {
		if c.Code != ref.Code {
			continue
		}
		name = or(c.Name, name)
		channel = or(c.Channel, channel)
		portal = or(c.Portal, portal)
		phone = or(c.Phone, phone)
		if c.Email != "" {
			agreed, email = c.Email, c.Email
		}
	}
	r := Route{Obligation: o.ID, Method: RoutePortal, Name: name, Authority: ref.Code, Portal: portal}
	if agreed != "" {
		r.Method, r.Address = RouteEmail, agreed
		r.Channel = channelText(channel, "", phone)
		return r
	}
	r.Channel = channelText(channel, email, phone)
	return r
}

// channelText is how a person reaches the authority, in words: the directory's channel, its
// address and its phone.
func channelText(channel, email, phone string) string {
	var parts []string
	for _, p := range []struct{ label, v string }{{"", channel}, {"e-mail ", email}, {"phone ", phone}} {
		if v := strings.TrimSpace(p.v); v != "" {
			parts = append(parts, p.label+v)
		}
	}
	return strings.Join(parts, "; ")
}

func or(v, fallback string) string {
	if v != "" {
		return v
	}
	return fallback
}

// Where says where a person files a report routed to a portal: the portal, and how the
// authority takes it, as far as known.
func (r Route) Where() string {
	switch {
	case r.Portal != "" && r.Channel != "":
		return r.Portal + " (" + r.Channel + ")"
	case r.Portal != "":
		return r.Portal
	}
	return r.Channel
}
