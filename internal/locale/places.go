package locale

// official are the official languages of places, the one notices use first listed first (the
// configuration's languages.countries chooses another). Where a country has several, the first
// is the language most of its people read, or the one its administration writes in:
//   - BE: Dutch (about 60% of the people); French and German are official as well: set
//     languages.countries.BE, or give the language per person in the dataset.
//   - CH: German (about 62%); French, Italian and Romansh are official as well.
//   - LU: French, the language of the administration's written acts; German and Luxembourgish.
//   - FI: Finnish; Swedish is official as well.
//   - IE, MT: English and Irish, Maltese and English; the national languages first for MT.
//   - CA: English, and CA-QC French (Charter of the French language).
//   - IN: English, used beside Hindi by the Union; the DPDP Rules allow English or any language
//     of the Eighth Schedule.
//
// Sources: the constitutions and language laws of each country as summarised by the EU's
// "Languages of the EU" pages and the CIA World Factbook (field "Languages"); checked for the
// EEA, the UK and Switzerland, summary elsewhere.
var official = map[string][]string{
	// The EEA.
	"AT": {"de"}, "BE": {"nl", "fr", "de"}, "BG": {"bg"}, "HR": {"hr"}, "CY": {"el", "tr"}, "CZ": {"cs"},
	"DK": {"da"}, "EE": {"et"}, "FI": {"fi", "sv"}, "FR": {"fr"}, "DE": {"de"}, "GR": {"el"}, "HU": {"hu"},
	"IE": {"en", "ga"}, "IT": {"it"}, "LV": {"lv"}, "LT": {"lt"}, "LU": {"fr", "de", "lb"}, "MT": {"mt", "en"},
	"NL": {"nl"}, "PL": {"pl"}, "PT": {"pt"}, "RO": {"ro"}, "SK": {"sk"}, "SI": {"sl"}, "ES": {"es"},
	"SE": {"sv"}, "IS": {"is"}, "LI": {"de"}, "NO": {"no"},
	// The rest of Europe.
	"GB": {"en"}, "CH": {"de", "fr", "it", "rm"}, "AD": {"ca"}, "MC": {"fr"}, "SM": {"it"}, "VA": {"it"},
	"GI": {"en"}, "IM": {"en"}, "JE": {"en"}, "GG": {"en"}, "FO": {"fo"}, "AX": {"sv"}, "GL": {"kl"},
	"AL": {"sq"}, "BA": {"bs", "hr", "sr"}, "ME": {"sr"}, "MK": {"mk"}, "RS": {"sr"},
	"MD": {"ro"}, "UA": {"uk"}, "BY": {"be", "ru"}, "RU": {"ru"}, "TR": {"tr"}, "GE": {"ka"}, "AM": {"hy"},
	"AZ": {"az"},
	// The Americas.
	"US": {"en"}, "US-PR": {"es", "en"}, "CA": {"en", "fr"}, "CA-QC": {"fr"}, "MX": {"es"}, "BR": {"pt"},
	"AR": {"es"}, "CL": {"es"}, "CO": {"es"}, "PE": {"es"}, "VE": {"es"}, "EC": {"es"}, "BO": {"es"},
	"PY": {"es"}, "UY": {"es"}, "CR": {"es"}, "PA": {"es"}, "GT": {"es"}, "HN": {"es"}, "SV": {"es"},
	"NI": {"es"}, "DO": {"es"}, "CU": {"es"}, "PR": {"es", "en"}, "JM": {"en"}, "TT": {"en"}, "BS": {"en"},
	"BB": {"en"}, "HT": {"fr", "ht"},
	// Asia and the Pacific.
	"JP": {"ja"}, "KR": {"ko"}, "CN": {"zh"}, "TW": {"zh"}, "HK": {"zh", "en"}, "MO": {"zh", "pt"},
	"SG": {"en", "ms", "zh", "ta"}, "IN": {"en", "hi"}, "PK": {"ur", "en"}, "BD": {"bn"}, "LK": {"si", "ta"},
	"ID": {"id"}, "MY": {"ms"}, "TH": {"th"}, "VN": {"vi"}, "PH": {"en", "tl"}, "KH": {"km"}, "MN": {"mn"},
	"KZ": {"kk", "ru"}, "UZ": {"uz"}, "AU": {"en"}, "NZ": {"en", "mi"},
	// The Middle East and Africa.
	"IL": {"he"}, "AE": {"ar"}, "SA": {"ar"}, "QA": {"ar"}, "KW": {"ar"}, "BH": {"ar"}, "OM": {"ar"},
	"JO": {"ar"}, "LB": {"ar"}, "IQ": {"ar"}, "IR": {"fa"}, "EG": {"ar"}, "MA": {"ar"}, "DZ": {"ar"},
	"TN": {"ar"}, "ZA": {"en"}, "NG": {"en"}, "KE": {"en", "sw"}, "GH": {"en"}, "TZ": {"sw", "en"},
	"ET": {"am"}, "SN": {"fr"}, "CI": {"fr"}, "CM": {"fr", "en"}, "AO": {"pt"}, "MZ": {"pt"}, "CV": {"pt"},
}

// names are the English names of the languages this package knows.
var names = map[string]string{
	"am": "Amharic", "ar": "Arabic", "az": "Azerbaijani", "be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali",
	"bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
	"es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fo": "Faroese",
	"fr": "French", "ga": "Irish", "gl": "Galician", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
	"ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic",
	"it": "Italian", "ja": "Japanese", "ka": "Georgian", "kk": "Kazakh", "kl": "Greenlandic", "km": "Khmer",
	"ko": "Korean", "lb": "Luxembourgish", "lt": "Lithuanian", "lv": "Latvian", "mi": "Māori",
	"mk": "Macedonian", "mn": "Mongolian", "ms": "Malay", "mt": "Maltese", "nb": "Norwegian Bokmål",
	"nl": "Dutch", "nn": "Norwegian Nynorsk", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
	"rm": "Romansh", "ro": "Romanian", "ru": "Russian", "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian",
	"sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "th": "Thai",
	"tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese",
	"yi": "Yiddish", "zh": "Chinese",
}

// zones are the time zones readers of each place keep: the capital's, or the most populous
// part's where a country spans several (US states and Canadian provinces have their own).
var zones = map[string]string{
	// The EEA.
	"AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "HR": "Europe/Zagreb",
	"CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn",
	"FI": "Europe/Helsinki", "FR": "Europe/Paris", "DE": "Europe/Berlin", "GR": "Europe/Athens",
	"HU": "Europe/Budapest", "IE": "Europe/Dublin", "IT": "Europe/Rome", "LV": "Europe/Riga",
	"LT": "Europe/Vilnius", "LU": "Europe/Luxembourg", "MT": "Europe/Malta", "NL": "Europe/Amsterdam",
	"PL": "Europe/Warsaw", "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SK": "Europe/Bratislava",
	"SI": "Europe/Ljubljana", "ES": "Europe/Madrid", "ES-CN": "Atlantic/Canary", "SE": "Europe/Stockholm",
	"IS": "Atlantic/Reykjavik", "LI": "Europe/Vaduz", "NO": "Europe/Oslo",
	// The rest of Europe.
	"GB": "Europe/London", "CH": "Europe/Zurich", "AD": "Europe/Andorra", "MC": "Europe/Monaco",
	"SM": "Europe/San_Marino", "VA": "Europe/Vatican", "GI": "Europe/Gibraltar", "IM": "Europe/Isle_of_Man",
	"JE": "Europe/Jersey", "GG": "Europe/Guernsey", "FO": "Atlantic/Faroe", "AX": "Europe/Mariehamn",
	"GL": "America/Nuuk", "AL": "Europe/Tirane", "BA": "Europe/Sarajevo", "ME": "Europe/Podgorica",
	"MK": "Europe/Skopje", "RS": "Europe/Belgrade", "MD": "Europe/Chisinau", "UA": "Europe/Kyiv",
	"BY": "Europe/Minsk", "RU": "Europe/Moscow", "TR": "Europe/Istanbul", "GE": "Asia/Tbilisi",
	"AM": "Asia/Yerevan", "AZ": "Asia/Baku",
	// The Americas.
	"US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City", "BR": "America/Sao_Paulo",
	"AR": "America/Argentina/Buenos_Aires", "CL": "America/Santiago", "CO": "America/Bogota",
	"PE": "America/Lima", "VE": "America/Caracas", "EC": "America/Guayaquil", "BO": "America/La_Paz",
	"PY": "America/Asuncion", "UY": "America/Montevideo", "CR": "America/Costa_Rica", "PA": "America/Panama",
	"GT": "America/Guatemala", "HN": "America/Tegucigalpa", "SV": "America/El_Salvador",
	"NI": "America/Managua", "DO": "America/Santo_Domingo", "CU": "America/Havana", "PR": "America/Puerto_Rico",
	"JM": "America/Jamaica", "TT": "America/Port_of_Spain", "BS": "America/Nassau", "BB": "America/Barbados",
	"HT": "America/Port-au-Prince",
	// US states and territories.
	"US-AL": "America/Chicago", "US-AK": "America/Anchorage", "US-AZ": "America/Phoenix", "US-AR": "America/Chicago",
	"US-CA": "America/Los_Angeles", "US-CO": "America/Denver", "US-CT": "America/New_York", "US-DE": "America/New_York",
	"US-FL": "America/New_York", "US-GA": "America/New_York", "US-HI": "Pacific/Honolulu", "US-ID": "America/Boise",
	"US-IL": "America/Chicago", "US-IN": "America/Indiana/Indianapolis", "US-IA": "America/Chicago",
	"US-KS": "America/Chicago", "US-KY": "America/New_York", "US-LA": "America/Chicago", "US-ME": "America/New_York",
	"US-MD": "America/New_York", "US-MA": "America/New_York", "US-MI": "America/Detroit", "US-MN": "America/Chicago",
	"US-MS": "America/Chicago", "US-MO": "America/Chicago", "US-MT": "America/Denver", "US-NE": "America/Chicago",
	"US-NV": "America/Los_Angeles", "US-NH": "America/New_York", "US-NJ": "America/New_York", "US-NM": "America/Denver",
	"US-NY": "America/New_York", "US-NC": "America/New_York", "US-ND": "America/Chicago", "US-OH": "America/New_York",
	"US-OK": "America/Chicago", "US-OR": "America/Los_Angeles", "US-PA": "America/New_York", "US-RI": "America/New_York",
	"US-SC": "America/New_York", "US-SD": "America/Chicago", "US-TN": "America/Chicago", "US-TX": "America/Chicago",
	"US-UT": "America/Denver", "US-VT": "America/New_York", "US-VA": "America/New_York", "US-WA": "America/Los_Angeles",
	"US-WV": "America/New_York", "US-WI": "America/Chicago", "US-WY": "America/Denver", "US-DC": "America/New_York",
	"US-AS": "Pacific/Pago_Pago", "US-GU": "Pacific/Guam", "US-MP": "Pacific/Saipan", "US-PR": "America/Puerto_Rico",
	"US-UM": "Pacific/Wake", "US-VI": "America/St_Thomas",
	// Canadian provinces and territories.
	"CA-AB": "America/Edmonton", "CA-BC": "America/Vancouver", "CA-MB": "America/Winnipeg", "CA-NB": "America/Moncton",
	"CA-NL": "America/St_Johns", "CA-NS": "America/Halifax", "CA-NT": "America/Yellowknife", "CA-NU": "America/Iqaluit",
	"CA-ON": "America/Toronto", "CA-PE": "America/Halifax", "CA-QC": "America/Toronto", "CA-SK": "America/Regina",
	"CA-YT": "America/Whitehorse",
	// Asia and the Pacific.
	"JP": "Asia/Tokyo", "KR": "Asia/Seoul", "CN": "Asia/Shanghai", "TW": "Asia/Taipei", "HK": "Asia/Hong_Kong",
	"MO": "Asia/Macau", "SG": "Asia/Singapore", "IN": "Asia/Kolkata", "PK": "Asia/Karachi", "BD": "Asia/Dhaka",
	"LK": "Asia/Colombo", "ID": "Asia/Jakarta", "MY": "Asia/Kuala_Lumpur", "TH": "Asia/Bangkok",
	"VN": "Asia/Ho_Chi_Minh", "PH": "Asia/Manila", "KH": "Asia/Phnom_Penh", "MN": "Asia/Ulaanbaatar",
	"KZ": "Asia/Almaty", "UZ": "Asia/Tashkent", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
	// The Middle East and Africa.
	"IL": "Asia/Jerusalem", "AE": "Asia/Dubai", "SA": "Asia/Riyadh", "QA": "Asia/Qatar", "KW": "Asia/Kuwait",
	"BH": "Asia/Bahrain", "OM": "Asia/Muscat", "JO": "Asia/Amman", "LB": "Asia/Beirut", "IQ": "Asia/Baghdad",
	"IR": "Asia/Tehran", "EG": "Africa/Cairo", "MA": "Africa/Casablanca", "DZ": "Africa/Algiers",
	"TN": "Africa/Tunis", "ZA": "Africa/Johannesburg", "NG": "Africa/Lagos", "KE": "Africa/Nairobi",
	"GH": "Africa/Accra", "TZ": "Africa/Dar_es_Salaam", "ET": "Africa/Addis_Ababa", "SN": "Africa/Dakar",
	"CI": "Africa/Abidjan", "CM": "Africa/Douala", "AO": "Africa/Luanda", "MZ": "Africa/Maputo",
	"CV": "Atlantic/Cape_Verde",
}

// Zone is the time zone a reader in jurisdiction keeps (an IANA name): the region's own where
// known (US-CA, CA-BC), else its country's, else UTC.
func Zone(jurisdiction string) string {
	if z, ok := zones[jurisdiction]; ok {
		return z
	}
	if z, ok := zones[Country(jurisdiction)]; ok {
		return z
	}
	return "UTC"
}
