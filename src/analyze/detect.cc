#include "src/analyze/detect.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "src/transform/locale_data.h"
#include "src/transform/scrub.h"

namespace phony::analyze {
namespace {

using transform::FindPii;
using transform::PiiKind;

constexpr const char* kTypeNames[kPiiTypeCount] = {
    "NONE",   "NAME", "FIRST_NAME", "LAST_NAME", "EMAIL",    "PHONE",    "ADDRESS",  "POSTAL_CODE", "CITY",
    "DATE_OF_BIRTH", "NATIONAL_ID", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "USERNAME", "PASSWORD", "SECRET",
    "FREE_TEXT", "GEO_LOCATION"};

// ---------------------------------------------------------------------------
// Names.

// Latin letters with diacritics (UTF-8, two bytes) folded to ASCII, keeping
// their case so camelCase boundaries survive: Turkish, German, French and
// Spanish identifiers ("DoğumTarihi", "Straße", "prénom", "teléfono").
std::string FoldToAscii(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80 || i + 1 >= in.size()) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    const auto d = static_cast<unsigned char>(in[i + 1]);
    const char* rep = nullptr;
    if (c == 0xC3) {
      switch (d) {
        case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: rep = "A"; break;
        case 0x87: rep = "C"; break;
        case 0x88: case 0x89: case 0x8A: case 0x8B: rep = "E"; break;
        case 0x8C: case 0x8D: case 0x8E: case 0x8F: rep = "I"; break;
        case 0x91: rep = "N"; break;
        case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: rep = "O"; break;
        case 0x99: case 0x9A: case 0x9B: case 0x9C: rep = "U"; break;
        case 0x9F: rep = "ss"; break;
        case 0xA0: case 0xA1: case 0xA2: case 0xA3: case 0xA4: case 0xA5: rep = "a"; break;
        case 0xA7: rep = "c"; break;
        case 0xA8: case 0xA9: case 0xAA: case 0xAB: rep = "e"; break;
        case 0xAC: case 0xAD: case 0xAE: case 0xAF: rep = "i"; break;
        case 0xB1: rep = "n"; break;
        case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: rep = "o"; break;
        case 0xB9: case 0xBA: case 0xBB: case 0xBC: rep = "u"; break;
        default: break;
      }
    } else if (c == 0xC4) {
      switch (d) {
        case 0x9E: rep = "G"; break;
        case 0x9F: rep = "g"; break;
        case 0xB0: rep = "I"; break;
        case 0xB1: rep = "i"; break;
        default: break;
      }
    } else if (c == 0xC5) {
      switch (d) {
        case 0x9E: rep = "S"; break;
        case 0x9F: rep = "s"; break;
        default: break;
      }
    }
    if (rep != nullptr) {
      out += rep;
      ++i;
    } else {
      out.push_back(static_cast<char>(c));  // kept: a separator for the tokenizer
    }
  }
  return out;
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLower(c) || IsUpper(c) || IsDigit(c); }
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

struct NameEntry {
  PiiType type;
  double confidence;
};

// Compact keys (a name's tokens joined without separators) to what they
// mean. kNone entries block a shorter match inside them ("macaddress" is not
// an ADDRESS). Several languages side by side.
const std::unordered_map<std::string, NameEntry>& Dictionary() {
  static const auto* dict = [] {
    auto* d = new std::unordered_map<std::string, NameEntry>();
    auto add = [d](PiiType t, double conf, std::initializer_list<const char*> keys) {
      for (const char* k : keys) d->emplace(k, NameEntry{t, conf});
    };
    using enum PiiType;
    add(kEmail, 0.95, {"email", "emails", "emailaddress", "emailadresse", "emailadres", "mail", "mailaddress",
                       "mailadresse", "eposta", "epostaadresi", "courriel", "adressemail", "adresseemail",
                       "adressemel", "correo", "correoelectronico", "emailaddr", "mailadres", "contactemail",
                       "emailid"});
    add(kPhone, 0.92, {"phone", "phones", "phonenumber", "phoneno", "phonenum", "tel", "telno", "telnr", "telephone",
                       "telephonenumber", "telefon", "telefonno", "telefonnumarasi", "telefonnummer", "telefono",
                       "numerotelephone", "numerodetelephone", "numerotelefono", "numerodetelefono", "mobile",
                       "mobilephone", "mobilenumber", "mobileno", "mobil", "mobiltelefon", "mobilnummer", "cell",
                       "cellphone", "cellnumber", "gsm", "gsmno", "cep", "ceptel", "ceptelefonu", "ceptelefon",
                       "fax", "faxnumber", "faxno", "handy", "handynummer", "portable", "movil", "celular",
                       "contactnumber", "contactphone", "msisdn", "whatsapp", "homephone", "workphone",
                       "telefonos", "telefonlar"});
    add(kFirstName, 0.93, {"firstname", "fname", "givenname", "forename", "firstnames", "middlename", "vorname",
                           "prenom", "primernombre", "isim", "adi", "ilkad", "nombrepila"});
    add(kLastName, 0.93, {"lastname", "lname", "surname", "familyname", "maidenname", "soyad", "soyadi", "soyisim",
                          "nachname", "familienname", "nomdefamille", "nomfamille", "apellido", "apellidos",
                          "primerapellido", "segundoapellido", "lastnames"});
    add(kName, 0.9, {"fullname", "fullnames", "realname", "personname", "customername", "clientname", "contactname",
                     "employeename", "membername", "patientname", "studentname", "authorname", "ownername",
                     "holdername", "cardholder", "cardholdername", "accountholder", "accountholdername",
                     "recipientname", "recipient", "beneficiary", "beneficiaryname", "adsoyad", "adisoyadi",
                     "isimsoyisim", "adsoyadi", "musteriadi", "musteriadsoyad", "nomcomplet", "nombrecompleto",
                     "vollername", "vollstaendigername", "kundenname", "displayname", "guestname", "passengername",
                     "drivername", "buyername", "billingname", "shippingname", "shipname", "contactperson",
                     "emergencycontact", "emergencycontactname", "spousename", "mothername", "fathername",
                     "mothersmaidenname", "personeladi", "calisanadi", "uyeadi", "kisiadi", "nomclient",
                     "nombrecliente", "nombrecontacto", "ansprechpartner"});
    add(kAddress, 0.9, {"address", "addresses", "addr", "streetaddress", "street", "streetname", "addressline",
                        "addressline1", "addressline2", "address1", "address2", "addr1", "addr2", "homeaddress",
                        "billingaddress", "shippingaddress", "mailingaddress", "postaladdress", "deliveryaddress",
                        "residence", "adres", "acikadres", "evadresi", "adresse", "anschrift", "strasse",
                        "strassenname", "hausnummer", "wohnadresse", "adressepostale", "rue", "direccion",
                        "domicilio", "calle", "direccionpostal", "mahalle", "sokak", "cadde"});
    add(kPostalCode, 0.9, {"zip", "zipcode", "zippostcode", "postalcode", "postcode", "postleitzahl", "plz",
                           "codepostal", "codigopostal", "postakodu", "pincode"});
    add(kCity, 0.8, {"city", "cityname", "town", "hometown", "birthplace", "placeofbirth", "sehir", "il", "ilce",
                     "stadt", "ort", "wohnort", "geburtsort", "ville", "lieudenaissance", "ciudad", "localidad",
                     "municipio", "dogumyeri", "municipality"});
    add(kDateOfBirth, 0.95, {"dob", "dateofbirth", "birthdate", "birthday", "birthdt", "borndate", "bornon",
                             "dogumtarihi", "dtarihi", "geburtsdatum", "geburtstag", "datenaissance",
                             "datedenaissance", "fechanacimiento", "fechadenacimiento", "nacimiento",
                             "birthyear", "yearofbirth", "dogumyili", "geburtsjahr"});
    add(kNationalId, 0.92, {"ssn", "socialsecurity", "socialsecuritynumber", "socialsecurityno", "nationalid",
                            "nationalidnumber", "nationalnumber", "nationalidentifier", "nationalinsurancenumber",
                            "nino", "tckimlik", "tckimlikno", "tckimliknumarasi", "tckn", "tcno", "tcnumarasi",
                            "kimlikno", "kimliknumarasi", "identitynumber", "identityno", "idnumber", "idno",
                            "personalnumber", "personalid", "passport", "passportno", "passportnumber",
                            "reisepassnummer", "driverslicense", "driverlicense", "driverslicence", "licensenumber",
                            "taxid", "taxnumber", "taxno", "tin", "vergino", "vergikimlikno", "steuerid",
                            "steueridentifikationsnummer", "steuernummer", "personalausweisnummer",
                            "ausweisnummer", "numerosecuritesociale", "numerodesecuritesociale", "nir",
                            "numeroinsee", "dni", "nie", "nif", "nss", "numerodocumento", "documentoidentidad",
                            "cpf", "curp", "pesel", "bsn", "sin", "sozialversicherungsnummer"});
    add(kCreditCard, 0.93, {"creditcard", "creditcardnumber", "creditcardno", "cardnumber", "cardno", "cardnum",
                            "ccnumber", "ccnum", "ccno", "pan", "kartno", "kartnumarasi", "kredikarti",
                            "kredikartino", "kreditkarte", "kreditkartennummer", "kartennummer", "numerocarte",
                            "numerodecarte", "cartebancaire", "numerotarjeta", "numerodetarjeta", "tarjetacredito",
                            "debitcard", "paymentcard"});
    add(kIban, 0.93, {"iban", "ibanno", "ibannumber", "bankaccount", "bankaccountnumber", "bankaccountno",
                      "accountnumber", "accountno", "kontonummer", "bankverbindung", "rib", "numerocuenta",
                      "cuentabancaria", "hesapno", "hesapnumarasi", "bankahesabi"});
    add(kIpAddress, 0.92, {"ip", "ipaddress", "ipaddr", "ipv4", "ipv6", "clientip", "remoteip", "remoteaddr",
                           "remoteaddress", "sourceip", "lastip", "lastloginip", "loginip", "signupip",
                           "registrationip", "userip", "ipadresi", "ipadresse", "direccionip", "adresseip"});
    add(kUsername, 0.85, {"username", "usernames", "userid_name", "login", "loginname", "logon", "screenname",
                          "nickname", "nick", "handle", "kullaniciadi", "kullanici", "benutzername",
                          "nomdutilisateur", "nomutilisateur", "pseudo", "nombreusuario", "usuario", "useridentifier",
                          "accountname", "twitterhandle", "instagram", "github"});
    add(kPassword, 0.95, {"password", "passwd", "pwd", "pass", "passhash", "passwordhash", "hashedpassword",
                          "passworddigest", "encryptedpassword", "cryptedpassword", "passwordsalt", "sifre",
                          "parola", "passwort", "kennwort", "motdepasse", "mdp", "contrasena", "clave", "pin",
                          "pincode_secret"});
    add(kSecret, 0.85, {"secret", "secretkey", "apikey", "apisecret", "apitoken", "accesstoken", "refreshtoken",
                        "authtoken", "token", "sessiontoken", "sessionid", "resettoken", "passwordresettoken",
                        "confirmationtoken", "privatekey", "clientsecret", "otpsecret", "totpsecret", "mfasecret",
                        "twofactorsecret", "recoverycodes", "securityanswer", "securityquestionanswer", "salt",
                        "bearertoken", "oauthtoken", "webhooksecret"});
    add(kFreeText, 0.45, {"note", "notes", "comment", "comments", "remark", "remarks", "bio", "biography", "about",
                          "aboutme", "message", "messages", "body", "feedback", "review", "reviewtext", "memo",
                          "freetext", "details", "internalnotes", "customernotes", "aciklama", "not", "notlar",
                          "yorum", "mesaj", "bemerkung", "bemerkungen", "kommentar", "notiz", "notizen",
                          "nachricht", "commentaire", "commentaires", "remarque", "remarques", "comentario",
                          "comentarios", "mensaje", "nota", "notas", "observaciones", "observacion",
                          "deliverynote", "deliveryinstructions", "instructions", "complaint", "diagnosis",
                          "medicalnotes", "teslimatnotu"});
    add(kGeoLocation, 0.85, {"lat", "latitude", "lng", "lon", "longitude", "geo", "geolocation", "geopoint",
                             "coordinates", "coords", "gps", "gpslocation", "latlng", "latlon", "geom", "location",
                             "homelocation", "lastlocation", "enlem", "boylam", "konum", "breitengrad",
                             "laengengrad", "standort", "latitud", "longitud", "ubicacion", "coordonnees"});
    // Words that contain a PII word without being one.
    add(kNone, 0, {"macaddress", "webaddress", "url", "website", "homepage", "emailtemplate", "hostname", "filename",
                   "pathname", "tablename", "columnname", "schemaname", "username_policy", "servername",
                   "dbname", "appname", "classname", "typename", "keyname", "nameservers", "passthrough",
                   "passenger", "passengers", "password_policy", "tokenizer", "tokens_used", "ipo", "zipfile",
                   "ziparchive", "pantone", "pantry", "panel", "pane", "tint", "tinted", "sinh", "single",
                   "nief", "nick_name_policy", "cellular", "cellar", "dni_type", "pinned", "lonely", "along",
                   "long", "salutation", "geometry_type", "telemetry", "television", "mailbox", "mailer",
                   "mailing", "mailinglist", "ipc", "sintax", "login_count", "logins", "pass_rate",
                   "passed", "passes", "passing", "bodyweight", "bodytype", "aboutus", "message_id"});
    return d;
  }();
  return *dict;
}

// Tokens after a match that make the column about the PII rather than the
// PII itself ("email_verified", "phone_type", "address_id").
bool IsTrailingNegator(const std::string& t) {
  static const auto* s = new std::unordered_set<std::string>{
      "id", "ids", "fk", "key", "ref", "type", "types", "kind", "status", "state", "flag", "flags", "verified",
      "verification", "confirmed", "confirmation", "valid", "validated", "validation", "is", "count", "cnt",
      "total", "enabled", "disabled", "opt", "optin", "optout", "in", "out", "sent", "format", "template",
      "templates", "length", "len", "changed", "updated", "created", "modified", "at", "on", "date", "time", "ts",
      "timestamp", "domain", "provider", "country", "code", "codes", "prefix", "ext", "extension", "visible",
      "visibility", "public", "policy", "regex", "pattern", "mask", "required", "allowed", "preference",
      "preferences", "pref", "consent", "bounce", "bounced", "unsubscribed", "subscription", "list", "lists",
      "opened", "clicked", "token", "expires", "expiry", "expiration", "attempts", "reset", "version", "changes",
      "history", "tarihi", "durumu", "turu", "tipi", "sayisi", "datum", "typ", "art", "fecha", "tipo", "estado",
      "statut", "level", "score", "rank", "limit", "quota", "enum", "category", "label", "index", "idx", "seq",
      "hint", "question", "strength", "algorithm", "algo", "iterations", "rounds", "accuracy", "radius",
      "precision", "zone", "timezone", "tz", "hash_algorithm", "column", "field", "used", "usage", "source",
      "range", "from", "to", "min", "max", "bucket", "group", "class"};
  return s->count(t) > 0;
}

bool IsLeadingNegator(const std::string& t) {
  static const auto* s = new std::unordered_set<std::string>{
      "is", "has", "num", "number", "count", "total", "nb", "max", "min", "avg", "default", "allow", "allowed",
      "require", "requires", "required", "valid", "validate", "use", "uses", "needs", "can", "show", "hide",
      "send", "verify", "verified", "no", "without", "with", "invalid", "bad", "last_changed"};
  return s->count(t) > 0;
}

// Words for a person's name and what a qualifier before them means.
bool IsNameWord(const std::string& t) {
  return t == "name" || t == "names" || t == "isim" || t == "nombre" || t == "nom" || t == "ad" || t == "adi" ||
         t == "isimler" || t == "navn";
}

bool IsPersonQualifier(const std::string& t) {
  static const auto* s = new std::unordered_set<std::string>{
      "customer", "client", "contact", "employee", "person", "member", "patient", "student", "author", "teacher",
      "owner", "holder", "recipient", "guest", "passenger", "driver", "buyer", "seller", "billing", "shipping",
      "ship", "mother", "father", "spouse", "partner", "emergency", "full", "real", "legal", "display", "given",
      "family", "maiden", "middle", "birth", "doctor", "physician", "nurse", "agent", "rep", "manager",
      "supervisor", "applicant", "candidate", "subscriber", "attendee", "participant", "donor", "tenant",
      "landlord", "musteri", "kisi", "personel", "calisan", "uye", "ogrenci", "hasta", "veli", "kunde", "kunden",
      "mitarbeiter", "benutzer", "patienten", "cliente", "empleado", "usuario", "paciente", "alumno", "socio",
      "utilisateur", "employe", "personne", "eleve", "adherent", "user", "users", "account", "signer",
      "sender", "receiver", "consignee", "beneficiary", "nominee", "witness", "child", "parent", "guardian"};
  return s->count(t) > 0;
}

// Qualifiers before a name word that make it something other than a person's.
bool IsThingQualifier(const std::string& t) {
  static const auto* s = new std::unordered_set<std::string>{
      "product", "company", "file", "table", "column", "host", "server", "db", "database", "schema", "app",
      "application", "brand", "category", "genre", "tag", "item", "bank", "branch", "department", "dept", "team",
      "group", "role", "project", "event", "course", "store", "shop", "business", "org", "organization",
      "organisation", "vendor", "supplier", "country", "region", "state", "province", "device", "browser", "plan",
      "model", "type", "class", "field", "attribute", "feature", "service", "package", "module", "job", "task",
      "queue", "topic", "channel", "index", "key", "display_type", "sku", "album", "track", "playlist", "artist",
      "band", "media", "format", "file", "image", "document", "template", "campaign", "list", "segment",
      "warehouse", "location", "site", "domain", "repo", "repository", "branch", "street", "city", "town",
      "urun", "sirket", "firma", "kategori", "magaza", "produkt", "firmen", "unternehmen", "produit",
      "entreprise", "societe", "producto", "empresa", "tienda", "menu", "dish", "recipe", "color", "colour",
      "size", "unit", "currency", "language", "lang", "locale", "status", "stage", "step", "phase", "metric",
      "report", "dashboard", "widget", "view", "page", "section", "variant", "option", "setting", "config",
      "parameter", "param", "var", "variable", "function", "method", "action", "permission", "scope", "tenant",
      "workspace", "tier", "level", "badge", "award", "prize", "game", "ship_via", "carrier", "shipper",
      "route", "station", "airport", "airline", "hotel", "room", "building", "floor", "venue", "school",
      "university", "hospital", "clinic", "pharmacy", "drug", "medication", "vehicle", "car", "make"};
  return s->count(t) > 0;
}

bool Compatible(PiiType type, ColumnClass cls) {
  using C = ColumnClass;
  switch (type) {
    case PiiType::kNone: return true;
    case PiiType::kEmail: case PiiType::kName: case PiiType::kFirstName: case PiiType::kLastName:
    case PiiType::kAddress: case PiiType::kCity: case PiiType::kUsername:
      return cls == C::kText || cls == C::kOther;
    case PiiType::kFreeText: return cls == C::kText || cls == C::kJson || cls == C::kOther;
    case PiiType::kPhone: case PiiType::kPostalCode:
      return cls == C::kText || cls == C::kInteger || cls == C::kOther;
    case PiiType::kDateOfBirth:
      return cls == C::kDate || cls == C::kTimestamp || cls == C::kText || cls == C::kInteger || cls == C::kOther;
    case PiiType::kNationalId: case PiiType::kCreditCard:
      return cls == C::kText || cls == C::kInteger || cls == C::kNumber || cls == C::kOther;
    case PiiType::kIban: return cls == C::kText || cls == C::kOther;
    case PiiType::kIpAddress:
      return cls == C::kText || cls == C::kInet || cls == C::kInteger || cls == C::kBinary || cls == C::kOther;
    case PiiType::kPassword: case PiiType::kSecret:
      return cls == C::kText || cls == C::kBinary || cls == C::kUuid || cls == C::kOther;
    case PiiType::kGeoLocation:
      return cls == C::kNumber || cls == C::kGeometry || cls == C::kText || cls == C::kJson || cls == C::kOther;
  }
  return false;
}

std::string Join(const std::vector<std::string>& tokens, size_t b, size_t e) {
  std::string out;
  for (size_t i = b; i < e; ++i) out += tokens[i];
  return out;
}

// Noise tokens of some naming conventions: Hungarian prefixes and
// table-name prefixes on columns ("strEmail", "c_phone", "fld_name").
bool IsNoise(const std::string& t) {
  return t == "str" || t == "txt" || t == "fld" || t == "col" || t == "sz" || t == "vc" || t == "f" || t == "c" ||
         t == "s" || t == "v";
}

}  // namespace

const char* PiiTypeName(PiiType type) {
  const auto i = static_cast<size_t>(type);
  return i < static_cast<size_t>(kPiiTypeCount) ? kTypeNames[i] : "NONE";
}

std::optional<PiiType> ParsePiiType(std::string_view name) {
  for (int i = 0; i < kPiiTypeCount; ++i) {
    if (name == kTypeNames[i]) return static_cast<PiiType>(i);
  }
  return std::nullopt;
}

const char* ColumnClassName(ColumnClass c) {
  switch (c) {
    case ColumnClass::kText: return "text";
    case ColumnClass::kInteger: return "integer";
    case ColumnClass::kNumber: return "number";
    case ColumnClass::kDate: return "date";
    case ColumnClass::kTimestamp: return "timestamp";
    case ColumnClass::kBool: return "bool";
    case ColumnClass::kBinary: return "binary";
    case ColumnClass::kJson: return "json";
    case ColumnClass::kUuid: return "uuid";
    case ColumnClass::kInet: return "inet";
    case ColumnClass::kGeometry: return "geometry";
    case ColumnClass::kOther: return "other";
  }
  return "other";
}

std::vector<std::string> NameTokens(std::string_view name) {
  const std::string s = FoldToAscii(name);
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!IsAlnum(c)) {
      flush();
      continue;
    }
    if (!cur.empty()) {
      const char p = s[i - 1];
      const bool lower_to_upper = (IsLower(p) || IsDigit(p)) && IsUpper(c);
      // "HTTPServer": the last capital of a run starts the next word.
      const bool acronym_end = IsUpper(p) && IsUpper(c) && i + 1 < s.size() && IsLower(s[i + 1]);
      const bool digit_edge = IsDigit(p) != IsDigit(c);
      if (lower_to_upper || acronym_end || digit_edge) flush();
    }
    cur.push_back(Lower(c));
  }
  flush();
  return out;
}

bool IsPersonTable(std::string_view table) {
  static const auto* s = new std::unordered_set<std::string>{
      "user", "users", "customer", "customers", "client", "clients", "employee", "employees", "person", "people",
      "persons", "member", "members", "contact", "contacts", "patient", "patients", "student", "students",
      "author", "authors", "staff", "owner", "owners", "driver", "drivers", "passenger", "passengers", "guest",
      "guests", "subscriber", "subscribers", "applicant", "applicants", "candidate", "candidates", "teacher",
      "teachers", "doctor", "doctors", "physician", "physicians", "player", "players", "participant",
      "participants", "attendee", "attendees", "volunteer", "volunteers", "donor", "donors", "citizen", "citizens",
      "resident", "residents", "buyer", "buyers", "seller", "sellers", "agent", "agents", "profile", "profiles",
      "actor", "actors", "account", "accounts", "holder", "holders", "musteri", "musteriler", "kullanici",
      "kullanicilar", "personel", "calisan", "calisanlar", "kisi", "kisiler", "uye", "uyeler", "ogrenci",
      "ogrenciler", "hasta", "hastalar", "kunde", "kunden", "benutzer", "mitarbeiter", "personen", "patienten",
      "utilisateur", "utilisateurs", "employe", "employes", "personne", "personnes", "adherent", "adherents",
      "eleve", "eleves", "cliente", "clientes", "usuario", "usuarios", "empleado", "empleados", "persona",
      "personas", "paciente", "pacientes", "alumno", "alumnos", "socio", "socios", "worker", "workers",
      "manager", "managers", "rep", "reps", "representative", "representatives", "beneficiary",
      "beneficiaries", "recipient", "recipients", "tenant", "tenants", "traveler", "travelers", "traveller",
      "travellers", "shopper", "shoppers", "learner", "learners", "instructor", "instructors", "nurse", "nurses"};
  for (const std::string& t : NameTokens(table)) {
    if (s->count(t) > 0) return true;
  }
  return false;
}

Verdict DetectByName(const ColumnFacts& column) {
  std::vector<std::string> tokens = NameTokens(column.name);
  // A column prefixed with its table's name or a Hungarian tag: "customer_email" keeps
  // "customer" (it qualifies), but "strEmail" drops "str".
  while (tokens.size() > 1 && IsNoise(tokens.front())) tokens.erase(tokens.begin());
  if (tokens.empty()) return {};
  const auto& dict = Dictionary();

  // The longest dictionary window not spoiled by a negator around it; on a
  // tie, the one further right (the head word of an English compound).
  Verdict best;
  size_t best_len = 0, best_end = 0;
  bool blocked = false;
  const size_t n = tokens.size();
  for (size_t b = 0; b < n; ++b) {
    for (size_t e = b + 1; e <= n && e - b <= 5; ++e) {
      const auto it = dict.find(Join(tokens, b, e));
      if (it == dict.end()) continue;
      bool spoiled = false;
      for (size_t k = e; k < n && !spoiled; ++k) spoiled = IsTrailingNegator(tokens[k]);
      for (size_t k = 0; k < b && !spoiled; ++k) spoiled = IsLeadingNegator(tokens[k]);
      if (spoiled) continue;
      const size_t len = e - b;
      if (len > best_len || (len == best_len && e > best_end)) {
        best_len = len;
        best_end = e;
        best = {it->second.type, it->second.confidence};
        blocked = it->second.type == PiiType::kNone;
      }
    }
  }
  if (blocked) return {};

  // A person's name, judged by the word before it and the table.
  if (best.type == PiiType::kNone) {
    for (size_t i = 0; i < n; ++i) {
      if (!IsNameWord(tokens[i])) continue;
      bool spoiled = false;
      for (size_t k = i + 1; k < n && !spoiled; ++k) spoiled = IsTrailingNegator(tokens[k]);
      if (spoiled) continue;
      const bool french_nom = tokens[i] == "nom";
      const bool turkish_ad = tokens[i] == "ad" || tokens[i] == "adi";
      if (i == 0) {
        if (n > 1) continue;  // "name_x" without a negator: unclear, leave it to the content
        if (IsPersonTable(column.table)) {
          best = {french_nom ? PiiType::kLastName : turkish_ad ? PiiType::kFirstName : PiiType::kName,
                  turkish_ad ? 0.8 : 0.9};
        } else {
          best = {PiiType::kName, turkish_ad ? 0.25 : 0.35};  // genre.name, product.name: the content decides
        }
      } else {
        const std::string& q = tokens[i - 1];
        if (IsThingQualifier(q)) return {};
        if (IsPersonQualifier(q)) {
          best = {PiiType::kName, 0.88};
        } else {
          best = {PiiType::kName, IsPersonTable(column.table) ? 0.6 : 0.35};
        }
      }
      break;
    }
  }
  if (best.type == PiiType::kNone || !Compatible(best.type, column.cls)) return {};
  // A key column holds identifiers, not PII, unless its name is one
  // (national ids, emails and usernames make natural keys).
  if (column.primary_key && best.type != PiiType::kEmail && best.type != PiiType::kNationalId &&
      best.type != PiiType::kUsername && best.type != PiiType::kIban && best.type != PiiType::kPhone) {
    return {};
  }
  return best;
}

// ---------------------------------------------------------------------------
// Content.

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string LowerAscii(std::string_view s) {
  std::string out = FoldToAscii(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// The shipped locale lists, folded to lower-case ASCII, as sets.
struct Lexicon {
  std::unordered_set<std::string> first_names, last_names, cities, street_words;
};

const Lexicon& Words() {
  static const auto* lex = [] {
    auto* l = new Lexicon();
    for (const std::string& locale : transform::ShippedLocales()) {
      auto load = [&](const char* list, std::unordered_set<std::string>* into) {
        if (const auto* v = transform::LocaleList(locale + "/" + list)) {
          for (std::string_view w : *v) into->insert(LowerAscii(w));
        }
      };
      load("first_names", &l->first_names);
      load("last_names", &l->last_names);
      load("cities", &l->cities);
      load("street_suffixes", &l->street_words);
    }
    for (const char* w : {"street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "dr", "boulevard",
                          "blvd", "way", "court", "ct", "place", "pl", "square", "sq", "terrace", "highway", "hwy",
                          "sokak", "sok", "sk", "cadde", "caddesi", "cad", "cd", "mahallesi", "mah", "mh", "bulvari",
                          "bulvar", "apt", "daire", "no", "strasse", "str", "weg", "platz", "allee", "gasse",
                          "ring", "damm", "ufer", "rue", "avenue", "chemin", "impasse", "allee", "quai", "calle",
                          "avenida", "avda", "plaza", "paseo", "camino", "carretera", "suite", "unit", "floor",
                          "po", "box", "sokagi"}) {
      l->street_words.insert(w);
    }
    return l;
  }();
  return *lex;
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  const std::string folded = LowerAscii(text);
  for (char c : folded) {
    if (IsAlnum(c) || c == '\'') {
      cur.push_back(c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool WholeValueIs(std::string_view v, PiiKind kind, const std::vector<transform::PiiSpan>& spans) {
  if (spans.size() != 1 || spans[0].kind != kind) return false;
  return spans[0].begin == 0 && spans[0].end == v.size();
}

bool IsIpAddress(std::string_view v) {
  if (v.size() > 45 || v.empty()) return false;
  std::string s(v);
  const size_t slash = s.find('/');  // CIDR, as PostgreSQL's inet prints it
  if (slash != std::string::npos) s.resize(slash);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || (s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), buf) == 1);
}

// "1987-04-12" (a date, or a timestamp's date part): its year, or -1.
int DateYear(std::string_view v) {
  if (v.size() < 10 || v[4] != '-' || v[7] != '-') return -1;
  int y = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (!IsDigit(v[i])) return -1;
    y = y * 10 + (v[i] - '0');
  }
  return y;
}

int CurrentYear() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return tm.tm_year + 1900;
}

bool IsPasswordHash(std::string_view v) {
  auto starts = [&](std::string_view p) { return v.substr(0, p.size()) == p; };
  if (starts("$2a$") || starts("$2b$") || starts("$2y$") || starts("$argon2") || starts("$5$") || starts("$6$") ||
      starts("$1$") || starts("$pbkdf2") || starts("pbkdf2_sha256$") || starts("sha1$") || starts("bcrypt$") ||
      starts("$scrypt$") || starts("{SSHA}") || starts("{SHA}")) {
    return true;
  }
  return false;
}

bool IsHex(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!IsDigit(c) && !((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// A long random-looking token: base64/hex/url-safe characters only, mixed
// classes, no spaces (API keys, session tokens, JWTs).
bool IsSecretToken(std::string_view v) {
  if (v.size() < 24 || v.size() > 4096) return false;
  if (v.substr(0, 3) == "eyJ" && std::count(v.begin(), v.end(), '.') == 2) return true;  // a JWT
  int lower = 0, upper = 0, digit = 0;
  for (char c : v) {
    if (IsLower(c)) ++lower;
    else if (IsUpper(c)) ++upper;
    else if (IsDigit(c)) ++digit;
    else if (c != '-' && c != '_' && c != '+' && c != '/' && c != '=' && c != '.') return false;
  }
  return (lower > 0) + (upper > 0) + (digit > 0) >= 2 && digit > 0;
}

bool IsUsernameShape(std::string_view v) {
  if (v.size() < 3 || v.size() > 32) return false;
  bool letter = false;
  for (char c : v) {
    if (IsLower(c) || IsUpper(c)) letter = true;
    else if (!IsDigit(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return letter;
}

bool IsPostalCodeShape(std::string_view v) {
  // 4-6 digits (TR, DE, FR, ES, US; US ZIP+4), or the UK/CA/NL letter forms.
  size_t digits = 0, letters = 0;
  for (char c : v) {
    if (IsDigit(c)) ++digits;
    else if (IsUpper(c) || IsLower(c)) ++letters;
    else if (c != ' ' && c != '-') return false;
  }
  if (letters == 0) return (digits >= 4 && digits <= 6) || digits == 9;
  return v.size() >= 5 && v.size() <= 8 && digits >= 2 && letters >= 2;
}

bool IsGeoText(std::string_view v) {
  if (v.substr(0, 6) == "POINT(" || v.substr(0, 6) == "POINT " || v.substr(0, 10) == "SRID=4326;") return true;
  // "41.0082, 28.9784" or "(41.0082,28.9784)"
  std::string s;
  for (char c : v) {
    if (c != '(' && c != ')' && c != ' ') s.push_back(c);
  }
  const size_t comma = s.find(',');
  if (comma == std::string::npos) return false;
  char* end = nullptr;
  const std::string a = s.substr(0, comma), b = s.substr(comma + 1);
  const double x = std::strtod(a.c_str(), &end);
  if (end != a.c_str() + a.size() || a.find('.') == std::string::npos) return false;
  const double y = std::strtod(b.c_str(), &end);
  if (end != b.c_str() + b.size() || b.find('.') == std::string::npos) return false;
  return std::fabs(x) <= 180 && std::fabs(y) <= 180;
}

}  // namespace

ContentProfile ProfileValues(const ColumnFacts& column, const std::vector<std::string>& values) {
  ContentProfile p;
  std::unordered_set<std::string_view> distinct;
  size_t total_length = 0;
  size_t counts[kPiiTypeCount] = {};
  const Lexicon& lex = Words();
  const int year_now = CurrentYear();
  std::vector<double> latitudes;
  for (const std::string& raw : values) {
    const std::string_view v = Trim(raw);
    if (v.empty()) continue;
    ++p.values;
    distinct.insert(v);
    total_length += v.size();
    auto hit = [&](PiiType t) { ++counts[static_cast<size_t>(t)]; };

    if (column.cls == ColumnClass::kDate || column.cls == ColumnClass::kTimestamp) {
      const int y = DateYear(v);
      if (y > 0 && y >= year_now - 110 && y <= year_now - 5) hit(PiiType::kDateOfBirth);
      continue;
    }
    if (column.cls == ColumnClass::kInet) {
      if (IsIpAddress(v)) hit(PiiType::kIpAddress);
      continue;
    }
    if (column.cls == ColumnClass::kGeometry) {
      hit(PiiType::kGeoLocation);
      continue;
    }
    if (column.cls == ColumnClass::kNumber) {
      char* end = nullptr;
      const std::string s(v);
      const double d = std::strtod(s.c_str(), &end);
      // Coordinates: within ±180 with at least four decimals.
      const size_t dot = s.find('.');
      if (end == s.c_str() + s.size() && std::fabs(d) <= 180 && dot != std::string::npos && s.size() - dot - 1 >= 4) {
        hit(PiiType::kGeoLocation);
      }
      const auto spans = FindPii(v);
      if (WholeValueIs(v, PiiKind::kCard, spans)) hit(PiiType::kCreditCard);
      continue;
    }
    if (column.cls == ColumnClass::kInteger) {
      // Integers are mostly identifiers and amounts; only what a validator
      // with a check digit accepts counts (a 10-digit id is not a phone).
      const auto spans = FindPii(v);
      if (WholeValueIs(v, PiiKind::kCard, spans)) hit(PiiType::kCreditCard);
      if (WholeValueIs(v, PiiKind::kTcKimlik, spans)) hit(PiiType::kNationalId);
      if (v.size() == 4 && v >= std::to_string(year_now - 110) && v <= std::to_string(year_now - 5)) {
        hit(PiiType::kDateOfBirth);  // a birth year; weak alone
      }
      continue;
    }
    if (column.cls == ColumnClass::kBool || column.cls == ColumnClass::kUuid) continue;

    // Text (and JSON, binary shown as text).
    const auto spans = FindPii(v);
    if (WholeValueIs(v, PiiKind::kEmail, spans)) hit(PiiType::kEmail);
    if (WholeValueIs(v, PiiKind::kPhone, spans)) hit(PiiType::kPhone);
    if (WholeValueIs(v, PiiKind::kCard, spans)) hit(PiiType::kCreditCard);
    if (WholeValueIs(v, PiiKind::kIban, spans)) hit(PiiType::kIban);
    if (WholeValueIs(v, PiiKind::kTcKimlik, spans) || WholeValueIs(v, PiiKind::kSsn, spans)) {
      hit(PiiType::kNationalId);
    }
    if (IsIpAddress(v)) hit(PiiType::kIpAddress);
    if (DateYear(v) > 0 && v.size() <= 10) {
      const int y = DateYear(v);
      if (y >= year_now - 110 && y <= year_now - 5) hit(PiiType::kDateOfBirth);
    }
    if (IsPasswordHash(v) || (IsHex(v) && (v.size() == 32 || v.size() == 40 || v.size() == 64 || v.size() == 128))) {
      hit(PiiType::kPassword);
    }
    if (IsSecretToken(v)) hit(PiiType::kSecret);
    if (IsGeoText(v)) hit(PiiType::kGeoLocation);
    if (IsPostalCodeShape(v)) hit(PiiType::kPostalCode);
    if (IsUsernameShape(v) && spans.empty()) hit(PiiType::kUsername);

    const std::vector<std::string> words = Words(v);
    const bool has_digit = std::any_of(v.begin(), v.end(), [](char c) { return IsDigit(c); });
    // People's names: a known first name and/or a known last name, a few
    // words, no digits.
    if (!words.empty() && words.size() <= 4 && !has_digit && spans.empty()) {
      const bool first_known = lex.first_names.count(words.front()) > 0;
      const bool last_known = lex.last_names.count(words.back()) > 0;
      if (words.size() >= 2 && first_known && (last_known || lex.first_names.count(words.back()) == 0)) {
        hit(PiiType::kName);
      }
      if (words.size() <= 2 && first_known) hit(PiiType::kFirstName);
      if (words.size() <= 2 && last_known) hit(PiiType::kLastName);
      std::string joined;
      for (const std::string& w : words) joined += (joined.empty() ? "" : " ") + w;
      if (lex.cities.count(joined) > 0) hit(PiiType::kCity);
    }
    // Street addresses: a number and a street word.
    if (has_digit && words.size() >= 2) {
      bool street = false;
      for (const std::string& w : words) street = street || lex.street_words.count(w) > 0;
      if (street) hit(PiiType::kAddress);
    }
    // Free text: several words of letters (prose, not a formatted number);
    // PII embedded in it.
    size_t letter_words = 0;
    for (const std::string& w : words) letter_words += std::any_of(w.begin(), w.end(), [](char c) { return IsLower(c); });
    if (letter_words >= 3 && !spans.empty()) ++p.embedded_pii;
    if (letter_words >= 4) hit(PiiType::kFreeText);
  }
  p.distinct = distinct.size();
  p.mean_length = p.values == 0 ? 0 : static_cast<double>(total_length) / static_cast<double>(p.values);
  for (int i = 0; i < kPiiTypeCount; ++i) {
    p.match[i] = p.values == 0 ? 0 : static_cast<double>(counts[i]) / static_cast<double>(p.values);
  }
  return p;
}

Verdict DetectByContent(const ColumnFacts& column, const ContentProfile& p) {
  if (p.values < 5) return {};
  auto m = [&](PiiType t) { return p.match[static_cast<size_t>(t)]; };
  const double distinct_ratio = static_cast<double>(p.distinct) / static_cast<double>(p.values);
  Verdict v;
  auto consider = [&](PiiType t, double confidence) {
    if (confidence > v.confidence && Compatible(t, column.cls)) v = {t, confidence};
  };
  // Validators with a checksum or a strict shape: the fraction is the confidence.
  if (m(PiiType::kEmail) >= 0.8) consider(PiiType::kEmail, 0.7 + 0.29 * m(PiiType::kEmail));
  if (m(PiiType::kCreditCard) >= 0.9) consider(PiiType::kCreditCard, 0.95);
  if (m(PiiType::kIban) >= 0.9) consider(PiiType::kIban, 0.95);
  if (m(PiiType::kNationalId) >= 0.9) consider(PiiType::kNationalId, column.cls == ColumnClass::kInteger ? 0.75 : 0.9);
  if (m(PiiType::kPhone) >= 0.8 && distinct_ratio >= 0.3) consider(PiiType::kPhone, 0.6 + 0.3 * m(PiiType::kPhone));
  if (m(PiiType::kIpAddress) >= 0.9) consider(PiiType::kIpAddress, column.cls == ColumnClass::kInet ? 0.95 : 0.9);
  if (m(PiiType::kPassword) >= 0.9 && distinct_ratio >= 0.8) consider(PiiType::kPassword, 0.85);
  if (m(PiiType::kSecret) >= 0.9 && distinct_ratio >= 0.9) consider(PiiType::kSecret, 0.7);
  if (column.cls == ColumnClass::kGeometry) consider(PiiType::kGeoLocation, 0.6);
  if (column.cls != ColumnClass::kNumber && m(PiiType::kGeoLocation) >= 0.9) consider(PiiType::kGeoLocation, 0.8);
  // People's names: mostly known names; a column of a few repeated values
  // is a category, not people.
  const bool varied = distinct_ratio >= 0.3 || p.distinct >= 50;
  if (varied && m(PiiType::kName) >= 0.5) consider(PiiType::kName, 0.55 + 0.4 * m(PiiType::kName));
  if (varied && m(PiiType::kFirstName) >= 0.6 && m(PiiType::kName) < 0.3) {
    consider(PiiType::kFirstName, 0.5 + 0.4 * m(PiiType::kFirstName));
  }
  if (varied && m(PiiType::kLastName) >= 0.6 && m(PiiType::kName) < 0.3 && m(PiiType::kFirstName) < 0.5) {
    consider(PiiType::kLastName, 0.45 + 0.4 * m(PiiType::kLastName));
  }
  if (m(PiiType::kCity) >= 0.6) consider(PiiType::kCity, 0.45 + 0.3 * m(PiiType::kCity));
  if (m(PiiType::kAddress) >= 0.6 && varied) consider(PiiType::kAddress, 0.5 + 0.4 * m(PiiType::kAddress));
  // Free text with PII inside it.
  if (p.embedded_pii >= 2 || (p.embedded_pii >= 1 && p.values < 40)) {
    consider(PiiType::kFreeText, std::min(0.95, 0.75 + static_cast<double>(p.embedded_pii) / static_cast<double>(p.values)));
  }
  // Weak shapes: only support a name's verdict (below the threshold alone).
  if (m(PiiType::kDateOfBirth) >= 0.9 && distinct_ratio >= 0.3) consider(PiiType::kDateOfBirth, 0.35);
  if (m(PiiType::kPostalCode) >= 0.9) consider(PiiType::kPostalCode, 0.3);
  if (m(PiiType::kUsername) >= 0.9 && distinct_ratio >= 0.9) consider(PiiType::kUsername, 0.3);
  if (m(PiiType::kFreeText) >= 0.5) consider(PiiType::kFreeText, 0.3);
  return v;
}

ColumnJudgement Judge(const ColumnFacts& column, const ContentProfile* profile) {
  const Verdict by_name = DetectByName(column);
  ColumnJudgement j;
  if (profile == nullptr || profile->values < 5) {
    // Nothing to read (an empty table, an unreadable type): the name alone.
    j.verdict = by_name;
    j.by_name = by_name.type != PiiType::kNone;
    return j;
  }
  const Verdict by_content = DetectByContent(column, *profile);
  auto match = [&](PiiType t) { return profile->match[static_cast<size_t>(t)]; };
  // Types whose content support is the same family: a NAME column of first
  // names, a FIRST_NAME column that holds full names.
  auto same_family = [](PiiType a, PiiType b) {
    auto person = [](PiiType t) { return t == PiiType::kName || t == PiiType::kFirstName || t == PiiType::kLastName; };
    return a == b || (person(a) && person(b));
  };
  if (by_name.type != PiiType::kNone && by_content.type != PiiType::kNone && same_family(by_name.type, by_content.type)) {
    j.verdict = {by_name.confidence >= 0.5 ? by_name.type : by_content.type,
                 1 - (1 - by_name.confidence) * (1 - by_content.confidence)};
    j.by_name = j.by_content = true;
    return j;
  }
  // Content that a strict validator is sure of wins over the name.
  if (by_content.type != PiiType::kNone && by_content.confidence >= 0.7 &&
      (by_name.type == PiiType::kNone || by_content.confidence > by_name.confidence ||
       by_name.type == PiiType::kFreeText)) {
    j.verdict = by_content;
    j.by_content = true;
    return j;
  }
  if (by_name.type == PiiType::kNone) {
    j.verdict = by_content;
    j.by_content = by_content.type != PiiType::kNone;
    return j;
  }
  // The name alone. Content that should match a strict shape and does not
  // weakens it (a column called `email` holding no emails).
  double conf = by_name.confidence;
  switch (by_name.type) {
    case PiiType::kEmail: case PiiType::kCreditCard: case PiiType::kIban: case PiiType::kIpAddress:
      if (match(by_name.type) < 0.2) conf *= 0.5;
      break;
    case PiiType::kPhone:
      // Phones written without separators or a country code are plain
      // digits to the validator: a milder doubt.
      if (match(PiiType::kPhone) < 0.2 && column.cls == ColumnClass::kText) conf *= 0.8;
      break;
    case PiiType::kName: case PiiType::kFirstName: case PiiType::kLastName:
      // A weak name verdict ("genre.name") needs names in the content.
      if (by_name.confidence < 0.5) conf = std::max(match(PiiType::kName), match(by_name.type)) >= 0.3 ? 0.6 : 0.2;
      break;
    case PiiType::kFreeText:
      if (profile->mean_length < 15) conf *= 0.6;  // short codes, not prose
      break;
    case PiiType::kGeoLocation:
      if (column.cls == ColumnClass::kNumber && match(PiiType::kGeoLocation) < 0.5) conf *= 0.6;
      break;
    default:
      break;
  }
  j.verdict = {by_name.type, conf};
  j.by_name = true;
  return j;
}

}  // namespace phony::analyze
