package rules

import (
	"sort"
	"strings"
)

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes (249, as in tzdata's iso3166.tab).
var countryCodes = setOf(
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE " +
		"BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD " +
		"CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM " +
		"DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF " +
		"GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU " +
		"ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN " +
		"KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME " +
		"MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA " +
		"NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM " +
		"PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI " +
		"SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK " +
		"TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI " +
		"VN VU WF WS YE YT ZA ZM ZW")

// usSubdivisions are the ISO 3166-2:US codes accepted as US-XX: the 50 states, the District of
// Columbia and the outlying areas.
var usSubdivisions = setOf(
	"AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD " +
		"MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC " +
		"SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR UM VI")

// eea is the European Economic Area: the 27 EU member states plus Iceland, Liechtenstein and Norway.
var eea = setOf("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO")

// misleadingCodes are codes people often type that ISO 3166-1 does not assign, with the right one.
var misleadingCodes = map[string]string{
	"UK": "GB", "EL": "GR", "EU": "a member state code such as DE", "EEA": "a member state code such as DE",
}

func setOf(codes string) map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}

// validJurisdiction reports whether code is an ISO 3166-1 alpha-2 country code or a US-XX code.
func validJurisdiction(code string) bool {
	if st, ok := strings.CutPrefix(code, "US-"); ok {
		return usSubdivisions[st]
	}
	return countryCodes[code]
}

// jurisdictionHint says how to fix an invalid jurisdiction code.
func jurisdictionHint(code string) string {
	up := strings.ToUpper(strings.TrimSpace(code))
	if up != code && validJurisdiction(up) {
		return "write it as " + up
	}
	if fix, ok := misleadingCodes[up]; ok {
		return "use " + fix
	}
	return "use an ISO 3166-1 alpha-2 country code (FR, GB, BR) or US-XX for a US state (US-CA)"
}

// matchJurisdiction reports whether code belongs to pattern: a code, EEA, or US-* (any US subdivision).
func matchJurisdiction(pattern, code string) bool {
	switch pattern {
	case "EEA":
		return eea[code]
	case "US-*":
		return strings.HasPrefix(code, "US-")
	}
	return pattern == code
}

func validPattern(p string) bool { return p == "EEA" || p == "US-*" || validJurisdiction(p) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// KnownJurisdiction reports whether code is an ISO 3166-1 alpha-2 country code or a US state
// as US-XX: the keys subjects_by_jurisdiction accepts.
func KnownJurisdiction(code string) bool { return validJurisdiction(code) }
