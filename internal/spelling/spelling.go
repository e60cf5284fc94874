// Package spelling suggests the known word a person probably meant, for "did you mean" hints in
// error messages about configuration and facts.
package spelling

import "strings"

// Nearest returns the word of known that word is most likely a misspelling of: the one at the
// smallest edit distance (a swap of two neighbouring letters counts as one edit), if that distance
// is small for the word's length and no other word is as close; failing that, the only known
// word that starts with word. It returns "" when nothing is close enough or word is known.
func Nearest(word string, known []string) string {
	w := strings.ToLower(strings.TrimSpace(word))
	if w == "" {
		return ""
	}
	best, bestDist, tie := "", -1, false
	for _, k := range known {
		if k == word {
			return ""
		}
		d := distance(w, strings.ToLower(k))
		switch {
		case bestDist < 0 || d < bestDist:
			best, bestDist, tie = k, d, false
		case d == bestDist:
			tie = true
		}
	}
	if bestDist >= 0 && bestDist <= allowed(w) && !tie {
		return best
	}
	var prefixed []string
	for _, k := range known {
		if len(w) >= 3 && strings.HasPrefix(strings.ToLower(k), w) {
			prefixed = append(prefixed, k)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// allowed is how many edits still look like a typo rather than another word.
func allowed(w string) int {
	switch n := len([]rune(w)); {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	case n <= 10:
		return 2
	}
	return 3
}

// distance is the optimal-string-alignment distance: insertions, deletions, substitutions and
// swaps of adjacent letters each cost one.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// Three rows suffice: the swap looks two rows back.
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
