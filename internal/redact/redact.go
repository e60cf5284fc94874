// Package redact takes secrets out of text bound for errors, workflow history, logs and chat:
// the password of a URL's userinfo, every value of a URL's query (tokens hide there: a webhook
// URL's ?token=, a DSN's ?password=), and the password of a key=value DSN. It is the one place
// that knows how; every error that can carry a URL or a DSN goes through it.
//
// What stays: the scheme, the user name, the host, the path and the query's keys, which is
// what someone needs to see which endpoint failed.
package redact

import (
	"errors"
	"regexp"
	"strings"
)

// Mark replaces what is taken out.
const Mark = "REDACTED"

// URL returns raw with the password of its userinfo and every query value replaced by Mark,
// and its fragment dropped. The userinfo is everything before the last '@' of the authority, so
// a password holding '@', '/' or ':' goes whole. Text without "://" (a URL written without its
// scheme) loses its query values and anything before an '@'.
func URL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		rest, _, _ = strings.Cut(raw, "#")
		hier, query, hasQuery := strings.Cut(rest, "?")
		if at := strings.LastIndex(hier, "@"); at >= 0 {
			hier = Mark + hier[at:]
		}
		if hasQuery {
			return hier + "?" + redactQuery(query)
		}
		return hier
	}
	rest, _, _ = strings.Cut(rest, "#")
	hier, query, hasQuery := strings.Cut(rest, "?")
	if at := strings.LastIndex(hier, "@"); at >= 0 {
		userinfo := hier[:at]
		if user, _, hasPassword := strings.Cut(userinfo, ":"); hasPassword {
			userinfo = user + ":" + Mark
		} else if strings.ContainsAny(userinfo, "/") {
			// Not a user name: an '@' in the path behind a password that holds '/'.
			userinfo = Mark
		}
		hier = userinfo + "@" + hier[at+1:]
	}
	if !hasQuery {
		return scheme + "://" + hier
	}
	return scheme + "://" + hier + "?" + redactQuery(query)
}

func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if strings.Contains(k, ";") {
			k, _, _ = strings.Cut(k, ";")
		}
		parts[i] = k + "=" + Mark
	}
	return strings.Join(parts, "&")
}

// DSN redacts a database connection string: a URL (postgres://…) as URL does; a key=value
// string (host=db user=breach password='…') loses the value of every secret-looking key. A
// SQLite file name or file: URI holds no secret and stays as it is.
func DSN(dsn string) string {
	if strings.HasPrefix(dsn, "file:") || strings.HasPrefix(dsn, "sqlite:") && !strings.HasPrefix(dsn, "sqlite://") {
		return dsn
	}
	if strings.Contains(dsn, "://") {
		return URL(dsn)
	}
	return keyValues(dsn)
}

var (
	// urlInText is a URL inside free text: up to a space, a quote or an angle bracket.
	urlInText = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'`<>]+")
	// secretPair is a secret-looking key of a key=value list, with its value: quoted (with
	// backslash escapes, as libpq writes it) or up to a space.
	secretPair = regexp.MustCompile(`(?i)\b((?:ssl)?password|passwd|pwd|secret|token|api[_-]?key)(\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&]*)`)
)

func keyValues(s string) string {
	return secretPair.ReplaceAllString(s, "${1}${2}"+Mark)
}

// Text redacts every URL in s (as URL does) and every secret-looking key=value pair (as DSN
// does for a key=value DSN).
func Text(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, URL)
	return keyValues(s)
}

// Error returns an error whose message is Text(err.Error()). It matches what err matches with
// errors.Is, but it does not unwrap: a Temporal failure records a cause chain by unwrapping,
// and the original message would go into workflow history with it. nil stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := Text(err.Error())
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }

// Is matches the errors err matches (context.Canceled, a kind of failure, …).
func (r *redacted) Is(target error) bool { return errors.Is(r.err, target) }
