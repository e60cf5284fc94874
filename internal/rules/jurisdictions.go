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

// caProvinces are the ISO 3166-2:CA codes of the provinces and territories, accepted as CA-XX
// (CA-QC for Québec, whose own law applies besides PIPEDA).
var caProvinces = setOf("AB BC MB NB NL NS NT NU ON PE QC SK YT")

// deLaender are the ISO 3166-2:DE codes of the 16 Länder: each has its own supervisory authority
// for the private sector (BDSG §40(1)), so a German establishment names its Land.
var deLaender = setOf("BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH")

// esRegions are the ISO 3166-2:ES codes of the 17 autonomous communities and the two autonomous
// cities: Catalonia, the Basque Country and Andalusia supervise their own public bodies.
var esRegions = setOf("AN AR AS CN CB CL CM CT EX GA IB RI MD MC NC PV VC CE ML")

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

// validJurisdiction reports whether code is an ISO 3166-1 alpha-2 country code, a US-XX code or
// a CA-XX code: the places people live in and organisations are established in.
func validJurisdiction(code string) bool {
	if st, ok := strings.CutPrefix(code, "US-"); ok {
		return usSubdivisions[st]
	}
	if pr, ok := strings.CutPrefix(code, "CA-"); ok {
		return caProvinces[pr]
	}
	return countryCodes[code]
}

// validRegion reports whether code is an ISO 3166-2 subdivision the rules route by: a German
// Land (DE-BE), a Spanish autonomous community (ES-CT), a Canadian province (CA-QC) or a US
// state (US-NY).
func validRegion(code string) bool {
	country, sub, ok := strings.Cut(code, "-")
	if !ok {
		return false
	}
	switch country {
	case "DE":
		return deLaender[sub]
	case "ES":
		return esRegions[sub]
	case "CA":
		return caProvinces[sub]
	case "US":
		return usSubdivisions[sub]
	}
	return false
}

// regionHint says how to fix a code that validRegion refuses.
func regionHint(code string) string {
	up := strings.ToUpper(strings.TrimSpace(code))
	if up != code && validRegion(up) {
		return "write it as " + up
	}
	if countryCodes[up] {
		return "a region is a subdivision code such as DE-BE; the country " + up + " belongs in establishments"
	}
	if country, _, ok := strings.Cut(up, "-"); ok && countryCodes[country] && !oneOf(country, []string{"DE", "ES", "CA", "US"}) {
		return "the rules route by region only in DE, ES, CA and US; for " + country + " the country in establishments is enough"
	}
	return "use an ISO 3166-2 code: a German Land (DE-BE, DE-BY), a Spanish autonomous community (ES-CT), a Canadian province (CA-QC) or a US state (US-NY)"
}

// countryOf is the country of a jurisdiction or region code: DE for DE-BE, US for US-CA.
func countryOf(code string) string {
	country, _, _ := strings.Cut(code, "-")
	return country
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
	if validRegion(up) {
		return up + " is a region: subjects and establishments take the country (" + countryOf(up) + "); name the region in establishment_regions"
	}
	return "use an ISO 3166-1 alpha-2 country code (FR, GB, BR), US-XX for a US state (US-CA) or CA-XX for a Canadian province (CA-QC)"
}

// matchJurisdiction reports whether code belongs to pattern: a code, EEA, or US-* (any US
// subdivision). A country pattern covers the country's subdivisions (CA covers CA-QC, DE covers
// DE-BE), and EEA covers the subdivisions of its countries.
func matchJurisdiction(pattern, code string) bool {
	switch pattern {
	case "EEA":
		return eea[countryOf(code)]
	case "US-*":
		return strings.HasPrefix(code, "US-")
	}
	return pattern == code || (len(pattern) == 2 && strings.HasPrefix(code, pattern+"-"))
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

// KnownJurisdiction reports whether code is an ISO 3166-1 alpha-2 country code, a US state as
// US-XX or a Canadian province as CA-XX: the keys subjects_by_jurisdiction accepts.
func KnownJurisdiction(code string) bool { return validJurisdiction(code) }

// KnownRegion reports whether code is a region establishment_regions accepts: DE-XX, ES-XX,
// CA-XX or US-XX.
func KnownRegion(code string) bool { return validRegion(code) }

// RegionHint says how to fix a code that KnownRegion refuses.
func RegionHint(code string) string { return regionHint(code) }

// IsEEA reports whether the country of code is in the European Economic Area.
func IsEEA(code string) bool { return eea[countryOf(code)] }
