package incident

// Languages says in which languages an incident's reports and notices are written: the
// configuration's choices (breach.yaml languages:, and the languages of its authorities:),
// fixed when the incident is declared. Incidents declared before languages were chosen have
// none (nil): their reports and notices are written in English, and their notices keep the
// batches they had.
type Languages struct {
	// Reports are the organisation's languages for reports, by preference: a report is written
	// in the first of them its authority accepts, else in the authority's first language.
	Reports []string `json:"reports,omitempty"`
	// Countries is the language of notices to the people of a country (DE) or region (CA-QC)
	// whose record names none, where the organisation writes to them in another language than
	// the first official one of their country (Belgium: fr rather than nl).
	Countries map[string]string `json:"countries,omitempty"`
	// Authorities are the languages an authority accepts where the configuration says so
	// (authorities: languages), by directory code: they replace the directory's.
	Authorities map[string][]string `json:"authorities,omitempty"`
}
