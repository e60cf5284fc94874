package sendgrid

import "github.com/breachops/breach/internal/mail"

// Planned is the outcome of Plan.
type Planned struct {
	// Batches each fit one request: at most the chosen size (never more than 1,000
	// personalizations, each with one recipient) and every address at most once.
	Batches [][]Recipient
	// Invalid are the positions in the input whose address is not a valid address. They are
	// never sent.
	Invalid []int
	// Duplicates are the positions whose address (compared case-insensitively) already
	// appeared earlier in the input. The earlier one is sent; these are not.
	Duplicates []int
}

// Plan groups recipients into requests of at most size recipients (size <= 0 or above
// MaxPersonalizations means MaxPersonalizations), keeping the input order, dropping invalid
// addresses and repeated addresses. Each recipient gets its own personalization, so the
// 1,000-personalization and 1,000-recipient limits coincide.
//
// Duplicates are found within the input only; a caller streaming a large dataset in chunks
// must detect repeats across chunks itself (the ledger keys subjects for that).
func Plan(recipients []Recipient, size int) Planned {
	if size <= 0 || size > MaxPersonalizations {
		size = MaxPersonalizations
	}
	var p Planned
	seen := make(map[string]struct{}, len(recipients))
	var cur []Recipient
	for i, r := range recipients {
		if !mail.ValidAddress(r.Email) {
			p.Invalid = append(p.Invalid, i)
			continue
		}
		n := mail.Normalize(r.Email)
		if _, dup := seen[n]; dup {
			p.Duplicates = append(p.Duplicates, i)
			continue
		}
		seen[n] = struct{}{}
		if cur == nil {
			cur = make([]Recipient, 0, min(size, len(recipients)-i))
		}
		cur = append(cur, r)
		if len(cur) == size {
			p.Batches = append(p.Batches, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		p.Batches = append(p.Batches, cur)
	}
	return p
}
