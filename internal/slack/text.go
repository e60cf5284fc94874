package slack

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Slack counts lengths in characters (Unicode code points), not bytes: every limit here is in
// characters. The rules and their sources are in slackfake/limits.go.
const (
	maxSectionText   = 3000
	maxFieldText     = 2000
	maxHeaderText    = 150
	maxButtonText    = 75
	maxOptionText    = 75
	maxPlaceholder   = 150
	maxLabel         = 2000
	maxModalTitle    = 24
	maxConfirmTitle  = 100
	maxConfirmText   = 300
	maxConfirmButton = 30
	maxTopic         = 250
	maxMessageBlocks = 50
	// maxInputLength is the longest value a plain-text input accepts (max_length).
	maxInputLength = 3000
	// maxFallback bounds the top-level text of a message: a notification and what screen
	// readers get, far below Slack's 40,000.
	maxFallback = 3500
)

const ellipsis = "…"

// Chars is the length of s as Slack counts it.
func Chars(s string) int { return utf8.RuneCountInString(s) }

// Truncate shortens plain text to at most n characters, ending with "…" when it had to cut. It
// never cuts inside a UTF-8 character, and keeps combining marks and joined emoji with their
// base character.
func Truncate(s string, n int) string {
	if Chars(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	cut := graphemeCut(s, byteOffset(s, n-1))
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace) + ellipsis
}

// byteOffset is the byte offset of the n-th character of s (len(s) if s is shorter).
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// graphemeCut moves a cut at byte offset i back so that it does not separate a character from
// the combining marks, variation selectors or zero-width joiner sequence that follow it.
func graphemeCut(s string, i int) int {
	for i > 0 && i < len(s) {
		next, _ := utf8.DecodeRuneInString(s[i:])
		prev, size := utf8.DecodeLastRuneInString(s[:i])
		if !joins(next) && prev != '\u200d' {
			return i
		}
		i -= size
	}
	return i
}

func joins(r rune) bool {
	return unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == '\u200d' ||
		(r >= '\ufe00' && r <= '\ufe0f') || (r >= 0x1f3fb && r <= 0x1f3ff)
}

// TruncateMrkdwn shortens mrkdwn to at most n characters without breaking a token: never inside
// a control sequence (<@U…>, <!date^…|…>, <https://…|…>), an HTML entity (&lt;) or a
// character, preferably at a space or line break, ending with "…" when it had to cut.
func TruncateMrkdwn(s string, n int) string {
	if Chars(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	head, _ := splitMrkdwn(s, n-Chars(ellipsis))
	return strings.TrimRightFunc(head, unicode.IsSpace) + ellipsis
}

// splitMrkdwn cuts s into a head of at most n characters and the rest. It cuts at the last line
// break it can, else after the last "; " or ", ", else at a space, else between two
// characters, but never inside a token: a control sequence in <…>, an entity such as &lt;, or
// a character with its combining marks. A cut at a line break, clause or space is taken only
// if it keeps at least half of n.
func splitMrkdwn(s string, n int) (head, rest string) {
	if Chars(s) <= n {
		return s, ""
	}
	var line, clause, space, safe int // the last cut of each kind, as a byte offset
	inAngle, inEntity := false, false
	var prev, prev2 rune
	k := 0 // characters before i
	for i, r := range s {
		if k > n {
			break
		}
		if i > 0 && !inAngle && !inEntity && !joins(r) && prev != '\u200d' {
			safe = i
			switch {
			case prev == '\n':
				line = i
			case prev == ' ' && (prev2 == ';' || prev2 == ','):
				clause = i
			case prev == ' ' || r == ' ' || r == '\n':
				space = i
			}
		}
		if inEntity && r != ';' && !entityChar(r) {
			inEntity = false // a bare &, not an entity after all
		}
		switch {
		case inAngle:
			inAngle = r != '>'
		case inEntity:
			inEntity = r != ';'
		case r == '<':
			inAngle = true
		case r == '&':
			inEntity = true
		}
		prev2, prev = prev, r
		k++
	}
	cut := safe
	half := byteOffset(s, n/2)
	for _, c := range []int{line, clause, space} {
		if c > 0 && c >= half {
			cut = c
			break
		}
	}
	if cut == 0 {
		// A single token longer than n: cut it rather than lose everything.
		cut = graphemeCut(s, byteOffset(s, n))
		if cut == 0 {
			cut = byteOffset(s, n)
		}
	}
	return strings.TrimRight(s[:cut], " \n"), strings.TrimLeft(s[cut:], " \n")
}

func entityChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '#'
}

// chunkMrkdwn splits s into pieces of at most n characters each, at the boundaries
// splitMrkdwn prefers.
func chunkMrkdwn(s string, n int) []string {
	var out []string
	for s != "" {
		head, rest := splitMrkdwn(s, n)
		if head == "" {
			head, rest = s, ""
		}
		out = append(out, head)
		s = rest
	}
	return out
}
