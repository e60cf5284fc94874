package templates

import (
	"strings"
	"text/template"
	"time"

	"github.com/breachops/breach/internal/locale"
)

// languageFuncs are the functions whose output depends on the language of the set:
//
//	when t zone     the instant for a reader in zone, with UTC beside it (locale.DateTime)
//	day t zone      the calendar date in zone (locale.Date)
//	num n           a count with the language's thousands separator
//	risk r          a risk level of the DPO's decision (unlikely, risk, high)
//	state s         a containment state (contained, isolating, ...)
//	category c      a data category of the rules' vocabulary (contact, address, ...)
//	categories cs   categories joined by ", " (the form batched notices substitute)
//	word key        a word of the table below (yes, no, none)
//	trigger t       what starts an obligation's clock (aware_at, classified_major_at, ...)
//	authority c n   an authority's name in the language, where it has one in it (else n)
//
// In a language other than English, utc, local and orNone write the language's words too, so
// that a block a translation inherits from English prints no English date or placeholder.
func languageFuncs(lang string) template.FuncMap {
	m := template.FuncMap{
		"when":     func(t time.Time, zone string) string { return locale.DateTime(t, lang, zone) },
		"day":      func(t time.Time, zone string) string { return locale.Date(t, lang, zone) },
		"num":      func(n int) string { return locale.Number(n, lang) },
		"risk":     func(r string) string { return Word(lang, "risk."+r, r) },
		"state":    func(s string) string { return Word(lang, "state."+s, s) },
		"category": func(c string) string { return Category(lang, c) },
		"categories": func(cs []string) string {
			out := make([]string, len(cs))
			for i, c := range cs {
				out[i] = Category(lang, c)
			}
			return strings.Join(out, ", ")
		},
		"word":    func(key string) string { return Word(lang, key, key) },
		"trigger": func(t string) string { return Word(lang, "trigger."+t, t) },
		"authority": func(code, name string) string {
			if n, ok := authorityNames[code][lang]; ok {
				return n
			}
			return name
		},
	}
	if lang != locale.English {
		m["utc"] = func(t time.Time) string { return locale.DateTime(t, lang, "UTC") }
		m["local"] = func(t time.Time, zone string) string { return locale.DateTime(t, lang, zone) }
		m["orNone"] = func(s string) string {
			if strings.TrimSpace(s) == "" {
				return Word(lang, "none", "(none given)")
			}
			return s
		}
	}
	return m
}

// authorityNames are the names authorities of countries with several official languages bear in
// each of them, by directory code: the directory names them once.
var authorityNames = map[string]map[string]string{
	"CH": {
		"de": "Eidgenössischer Datenschutz- und Öffentlichkeitsbeauftragter (EDÖB)",
		"fr": "Préposé fédéral à la protection des données et à la transparence (PFPDT)",
		"it": "Incaricato federale della protezione dei dati e della trasparenza (IFPDT)",
	},
	"BE": {
		"nl": "Gegevensbeschermingsautoriteit (GBA)",
		"fr": "Autorité de protection des données (APD)",
		"de": "Datenschutzbehörde (DSB)",
	},
}

// Word is the word for key in lang, else in English, else def.
func Word(lang, key, def string) string {
	if w, ok := words[lang][key]; ok {
		return w
	}
	if w, ok := words[locale.English][key]; ok {
		return w
	}
	return def
}

// Category is a data category of the rules' vocabulary (internal/rules categories.yaml) as a
// reader of lang says it; a value not in the vocabulary (a substitution tag) is kept as it is.
func Category(lang, c string) string { return Word(lang, "cat."+c, c) }

// words are the short texts the templates of each language take from the data: risk levels,
// containment states, data categories. English keeps the vocabulary's own words, as the English
// templates print them.
var words = map[string]map[string]string{
	"en": {
		"none": "(none given)", "yes": "yes", "no": "no",
		"risk.unlikely": "unlikely", "risk.risk": "risk", "risk.high": "high",
		"state.contained": "isolated", "state.isolating": "isolation in progress",
		"state.manual-required": "manual isolation requested, not yet confirmed",
		"state.released":        "isolation lifted, back in service", "state.failed": "automatic isolation failed",
	},
	"de": {
		"none": "(keine Angabe)", "yes": "ja", "no": "nein",
		"trigger.aware_at": "Kenntnisnahme", "trigger.classified_major_at": "Einstufung als schwerwiegend",
		"trigger.submitted.dora-initial": "Übermittlung der Erstmeldung", "trigger.submitted.dora-intermediate": "Übermittlung der Zwischenmeldung",
		"trigger.submitted.nis2-notification": "Übermittlung der Meldung über den Sicherheitsvorfall",
		"risk.unlikely":                       "voraussichtlich kein Risiko", "risk.risk": "Risiko", "risk.high": "hohes Risiko",
		"state.contained": "isoliert", "state.isolating": "Isolierung läuft",
		"state.manual-required": "manuelle Isolierung angefordert, noch nicht bestätigt",
		"state.released":        "Isolierung aufgehoben, wieder in Betrieb", "state.failed": "automatische Isolierung fehlgeschlagen",
		"cat.contact": "Kontaktdaten (E-Mail-Adresse, Telefonnummer)", "cat.address": "Postanschrift",
		"cat.date-of-birth": "Geburtsdatum", "cat.order-history": "Bestellungen und Einkäufe",
		"cat.payment-card-last4": "die letzten vier Ziffern einer Zahlungskarte (nicht die vollständige Nummer)",
		"cat.financial":          "Finanzdaten (Bankverbindung, vollständige Kartennummern, Einkommen, Bonität)",
		"cat.credentials":        "Zugangsdaten (Passwörter, Sicherheitsfragen)",
		"cat.national-id":        "amtliche Kennnummern (Personalausweis, Reisepass, Führerschein, Sozialversicherungs- oder Steuernummer)",
		"cat.insurance":          "Versicherungsdaten", "cat.health": "Gesundheitsdaten", "cat.biometric": "biometrische Daten",
		"cat.genetic": "genetische Daten", "cat.special-category": "weitere besonders schützenswerte Daten (ethnische Herkunft, politische Meinungen, Religion, Gewerkschaftszugehörigkeit, Sexualleben oder sexuelle Orientierung)",
		"cat.children": "Daten von Kindern", "cat.elderly": "Daten älterer Menschen",
		"cat.secrecy-protected": "Daten, die einem Berufs- oder Amtsgeheimnis unterliegen", "cat.other": "sonstige Daten",
	},
	"fr": {
		"none": "(non communiqué)", "yes": "oui", "no": "non",
		"trigger.aware_at": "prise de connaissance", "trigger.classified_major_at": "classification comme majeur",
		"trigger.submitted.dora-initial": "transmission de la notification initiale", "trigger.submitted.dora-intermediate": "transmission du rapport intermédiaire",
		"trigger.submitted.nis2-notification": "transmission de la notification d'incident",
		"risk.unlikely":                       "risque peu probable", "risk.risk": "risque", "risk.high": "risque élevé",
		"state.contained": "isolé", "state.isolating": "isolement en cours",
		"state.manual-required": "isolement manuel demandé, pas encore confirmé",
		"state.released":        "isolement levé, remis en service", "state.failed": "échec de l'isolement automatique",
		"cat.contact": "coordonnées (adresse électronique, numéro de téléphone)", "cat.address": "adresse postale",
		"cat.date-of-birth": "date de naissance", "cat.order-history": "commandes et achats",
		"cat.payment-card-last4": "les quatre derniers chiffres d'une carte de paiement (pas le numéro complet)",
		"cat.financial":          "données financières (coordonnées bancaires, numéros de carte complets, revenus, solvabilité)",
		"cat.credentials":        "identifiants de connexion (mots de passe, questions de sécurité)",
		"cat.national-id":        "identifiants officiels (carte d'identité, passeport, permis de conduire, numéro de sécurité sociale ou fiscal)",
		"cat.insurance":          "données d'assurance", "cat.health": "données concernant la santé", "cat.biometric": "données biométriques",
		"cat.genetic": "données génétiques", "cat.special-category": "autres données sensibles (origine ethnique, opinions politiques, religion, appartenance syndicale, vie ou orientation sexuelle)",
		"cat.children": "données d'enfants", "cat.elderly": "données de personnes âgées",
		"cat.secrecy-protected": "données couvertes par un secret professionnel ou légal", "cat.other": "autres données",
	},
	"it": {
		"none": "(non indicato)", "yes": "sì", "no": "no",
		"trigger.aware_at": "conoscenza dell'incidente", "trigger.classified_major_at": "classificazione come grave",
		"trigger.submitted.dora-initial": "trasmissione della notifica iniziale", "trigger.submitted.dora-intermediate": "trasmissione della relazione intermedia",
		"trigger.submitted.nis2-notification": "trasmissione della notifica dell'incidente",
		"risk.unlikely":                       "rischio improbabile", "risk.risk": "rischio", "risk.high": "rischio elevato",
		"state.contained": "isolato", "state.isolating": "isolamento in corso",
		"state.manual-required": "isolamento manuale richiesto, non ancora confermato",
		"state.released":        "isolamento revocato, di nuovo in servizio", "state.failed": "isolamento automatico non riuscito",
		"cat.contact": "dati di contatto (indirizzo e-mail, numero di telefono)", "cat.address": "indirizzo postale",
		"cat.date-of-birth": "data di nascita", "cat.order-history": "ordini e acquisti",
		"cat.payment-card-last4": "le ultime quattro cifre di una carta di pagamento (non il numero completo)",
		"cat.financial":          "dati finanziari (coordinate bancarie, numeri di carta completi, reddito, affidabilità creditizia)",
		"cat.credentials":        "credenziali di accesso (password, domande di sicurezza)",
		"cat.national-id":        "identificativi ufficiali (carta d'identità, passaporto, patente, codice fiscale o numero di previdenza sociale)",
		"cat.insurance":          "dati assicurativi", "cat.health": "dati relativi alla salute", "cat.biometric": "dati biometrici",
		"cat.genetic": "dati genetici", "cat.special-category": "altri dati particolarmente sensibili (origine etnica, opinioni politiche, religione, appartenenza sindacale, vita od orientamento sessuale)",
		"cat.children": "dati di minori", "cat.elderly": "dati di persone anziane",
		"cat.secrecy-protected": "dati coperti da segreto professionale o legale", "cat.other": "altri dati",
	},
	"es": {
		"none": "(no se indica)", "yes": "sí", "no": "no",
		"trigger.aware_at": "constancia del incidente", "trigger.classified_major_at": "clasificación como grave",
		"trigger.submitted.dora-initial": "remisión de la notificación inicial", "trigger.submitted.dora-intermediate": "remisión del informe intermedio",
		"trigger.submitted.nis2-notification": "remisión de la notificación del incidente",
		"risk.unlikely":                       "riesgo improbable", "risk.risk": "riesgo", "risk.high": "alto riesgo",
		"state.contained": "aislado", "state.isolating": "aislamiento en curso",
		"state.manual-required": "aislamiento manual solicitado, aún no confirmado",
		"state.released":        "aislamiento levantado, de nuevo en servicio", "state.failed": "el aislamiento automático ha fallado",
		"cat.contact": "datos de contacto (correo electrónico, número de teléfono)", "cat.address": "dirección postal",
		"cat.date-of-birth": "fecha de nacimiento", "cat.order-history": "pedidos y compras",
		"cat.payment-card-last4": "los cuatro últimos dígitos de una tarjeta de pago (no el número completo)",
		"cat.financial":          "datos financieros (cuenta bancaria, números de tarjeta completos, ingresos, solvencia)",
		"cat.credentials":        "credenciales de acceso (contraseñas, preguntas de seguridad)",
		"cat.national-id":        "identificadores oficiales (DNI, pasaporte, permiso de conducir, número de la seguridad social o fiscal)",
		"cat.insurance":          "datos de seguros", "cat.health": "datos relativos a la salud", "cat.biometric": "datos biométricos",
		"cat.genetic": "datos genéticos", "cat.special-category": "otros datos especialmente sensibles (origen étnico, opiniones políticas, religión, afiliación sindical, vida u orientación sexual)",
		"cat.children": "datos de menores", "cat.elderly": "datos de personas mayores",
		"cat.secrecy-protected": "datos sujetos a secreto profesional o legal", "cat.other": "otros datos",
	},
	"nl": {
		"none": "(niet opgegeven)", "yes": "ja", "no": "nee",
		"trigger.aware_at": "kennisname", "trigger.classified_major_at": "indeling als ernstig",
		"trigger.submitted.dora-initial": "indiening van de eerste melding", "trigger.submitted.dora-intermediate": "indiening van het tussentijdse verslag",
		"trigger.submitted.nis2-notification": "indiening van de incidentmelding",
		"risk.unlikely":                       "risico onwaarschijnlijk", "risk.risk": "risico", "risk.high": "hoog risico",
		"state.contained": "geïsoleerd", "state.isolating": "isolatie bezig",
		"state.manual-required": "handmatige isolatie gevraagd, nog niet bevestigd",
		"state.released":        "isolatie opgeheven, weer in gebruik", "state.failed": "automatische isolatie mislukt",
		"cat.contact": "contactgegevens (e-mailadres, telefoonnummer)", "cat.address": "postadres",
		"cat.date-of-birth": "geboortedatum", "cat.order-history": "bestellingen en aankopen",
		"cat.payment-card-last4": "de laatste vier cijfers van een betaalkaart (niet het volledige nummer)",
		"cat.financial":          "financiële gegevens (bankrekening, volledige kaartnummers, inkomen, kredietwaardigheid)",
		"cat.credentials":        "inloggegevens (wachtwoorden, beveiligingsvragen)",
		"cat.national-id":        "officiële identificatienummers (identiteitskaart, paspoort, rijbewijs, BSN of fiscaal nummer)",
		"cat.insurance":          "verzekeringsgegevens", "cat.health": "gegevens over gezondheid", "cat.biometric": "biometrische gegevens",
		"cat.genetic": "genetische gegevens", "cat.special-category": "andere bijzonder gevoelige gegevens (etnische afkomst, politieke opvattingen, religie, vakbondslidmaatschap, seksueel gedrag of seksuele gerichtheid)",
		"cat.children": "gegevens van kinderen", "cat.elderly": "gegevens van ouderen",
		"cat.secrecy-protected": "gegevens die onder een beroeps- of wettelijk geheim vallen", "cat.other": "overige gegevens",
	},
	"pl": {
		"none": "(nie podano)", "yes": "tak", "no": "nie",
		"trigger.aware_at": "stwierdzenie incydentu", "trigger.classified_major_at": "zakwalifikowanie jako poważny",
		"trigger.submitted.dora-initial": "przekazanie wstępnego powiadomienia", "trigger.submitted.dora-intermediate": "przekazanie sprawozdania pośredniego",
		"trigger.submitted.nis2-notification": "przekazanie zgłoszenia incydentu",
		"risk.unlikely":                       "ryzyko mało prawdopodobne", "risk.risk": "ryzyko", "risk.high": "wysokie ryzyko",
		"state.contained": "odizolowany", "state.isolating": "izolacja w toku",
		"state.manual-required": "zlecono ręczną izolację, jeszcze niepotwierdzoną",
		"state.released":        "izolację zniesiono, system znowu działa", "state.failed": "automatyczna izolacja nie powiodła się",
		"cat.contact": "dane kontaktowe (adres e-mail, numer telefonu)", "cat.address": "adres pocztowy",
		"cat.date-of-birth": "data urodzenia", "cat.order-history": "zamówienia i zakupy",
		"cat.payment-card-last4": "cztery ostatnie cyfry karty płatniczej (nie pełny numer)",
		"cat.financial":          "dane finansowe (rachunek bankowy, pełne numery kart, dochody, zdolność kredytowa)",
		"cat.credentials":        "dane logowania (hasła, pytania zabezpieczające)",
		"cat.national-id":        "urzędowe numery identyfikacyjne (dowód osobisty, paszport, prawo jazdy, PESEL lub NIP)",
		"cat.insurance":          "dane ubezpieczeniowe", "cat.health": "dane dotyczące zdrowia", "cat.biometric": "dane biometryczne",
		"cat.genetic": "dane genetyczne", "cat.special-category": "inne szczególnie wrażliwe dane (pochodzenie etniczne, poglądy polityczne, religia, przynależność do związków zawodowych, seksualność lub orientacja seksualna)",
		"cat.children": "dane dzieci", "cat.elderly": "dane osób starszych",
		"cat.secrecy-protected": "dane objęte tajemnicą zawodową lub prawnie chronioną", "cat.other": "inne dane",
	},
	"pt": {
		"none": "(não indicado)", "yes": "sim", "no": "não",
		"trigger.aware_at": "conhecimento do incidente", "trigger.classified_major_at": "classificação como severo",
		"trigger.submitted.dora-initial": "envio da notificação inicial", "trigger.submitted.dora-intermediate": "envio do relatório intercalar",
		"trigger.submitted.nis2-notification": "envio da notificação do incidente",
		"risk.unlikely":                       "risco improvável", "risk.risk": "risco", "risk.high": "risco elevado",
		"state.contained": "isolado", "state.isolating": "isolamento em curso",
		"state.manual-required": "isolamento manual pedido, ainda não confirmado",
		"state.released":        "isolamento levantado, de novo em serviço", "state.failed": "o isolamento automático falhou",
		"cat.contact": "dados de contacto (endereço de correio eletrónico, número de telefone)", "cat.address": "morada",
		"cat.date-of-birth": "data de nascimento", "cat.order-history": "encomendas e compras",
		"cat.payment-card-last4": "os quatro últimos dígitos de um cartão de pagamento (não o número completo)",
		"cat.financial":          "dados financeiros (conta bancária, números de cartão completos, rendimentos, solvabilidade)",
		"cat.credentials":        "credenciais de acesso (palavras-passe, perguntas de segurança)",
		"cat.national-id":        "identificadores oficiais (cartão de cidadão, passaporte, carta de condução, número de segurança social ou de contribuinte)",
		"cat.insurance":          "dados de seguros", "cat.health": "dados relativos à saúde", "cat.biometric": "dados biométricos",
		"cat.genetic": "dados genéticos", "cat.special-category": "outros dados especialmente sensíveis (origem étnica, opiniões políticas, religião, filiação sindical, vida ou orientação sexual)",
		"cat.children": "dados de crianças", "cat.elderly": "dados de pessoas idosas",
		"cat.secrecy-protected": "dados sujeitos a sigilo profissional ou legal", "cat.other": "outros dados",
	},
	"sv": {
		"none": "(ej angivet)", "yes": "ja", "no": "nej",
		"trigger.aware_at": "vetskap om incidenten", "trigger.classified_major_at": "klassificering som större",
		"trigger.submitted.dora-initial": "inlämning av den inledande anmälan", "trigger.submitted.dora-intermediate": "inlämning av mellanrapporten",
		"trigger.submitted.nis2-notification": "inlämning av incidentanmälan",
		"risk.unlikely":                       "risk osannolik", "risk.risk": "risk", "risk.high": "hög risk",
		"state.contained": "isolerat", "state.isolating": "isolering pågår",
		"state.manual-required": "manuell isolering begärd, ännu inte bekräftad",
		"state.released":        "isoleringen hävd, i drift igen", "state.failed": "automatisk isolering misslyckades",
		"cat.contact": "kontaktuppgifter (e-postadress, telefonnummer)", "cat.address": "postadress",
		"cat.date-of-birth": "födelsedatum", "cat.order-history": "beställningar och köp",
		"cat.payment-card-last4": "de fyra sista siffrorna i ett betalkort (inte hela numret)",
		"cat.financial":          "ekonomiska uppgifter (bankkonto, fullständiga kortnummer, inkomst, kreditvärdighet)",
		"cat.credentials":        "inloggningsuppgifter (lösenord, säkerhetsfrågor)",
		"cat.national-id":        "officiella identitetsuppgifter (id-kort, pass, körkort, personnummer eller skatteregistreringsnummer)",
		"cat.insurance":          "försäkringsuppgifter", "cat.health": "uppgifter om hälsa", "cat.biometric": "biometriska uppgifter",
		"cat.genetic": "genetiska uppgifter", "cat.special-category": "andra särskilt känsliga uppgifter (etniskt ursprung, politiska åsikter, religion, medlemskap i fackförening, sexualliv eller sexuell läggning)",
		"cat.children": "uppgifter om barn", "cat.elderly": "uppgifter om äldre personer",
		"cat.secrecy-protected": "uppgifter som omfattas av tystnadsplikt eller sekretess", "cat.other": "övriga uppgifter",
	},
}
