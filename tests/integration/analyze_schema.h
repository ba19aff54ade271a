// The labelled schema of issue #10's detection tests: 14 tables, 116
// columns, names in English, Turkish, German, French and Spanish in
// snake_case, camelCase and PascalCase, each column labelled with the PII
// type a person would give it (NONE for the rest), rows generated
// deterministically with the tricky cases: product `name` columns,
// ten-digit order numbers that look like phones, free text with emails and
// phone numbers in some rows only, hire dates that look like birth dates,
// categories, prose without PII. The same schema is written for PostgreSQL
// and for MariaDB, with or without its foreign-key constraints. Test-only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "src/analyze/detect.h"

namespace phony::testing {

struct LabelledColumn {
  std::string name;
  std::string type;  // int bigint text vc date ts num bool inet float
  analyze::PiiType label = analyze::PiiType::kNone;
  std::function<std::optional<std::string>(int)> value;  // row i (1-based) -> text, nullopt for NULL
};

struct LabelledFk {
  std::string column, ref_table, ref_column;
};

struct LabelledTable {
  std::string name;
  int rows = 0;
  std::vector<LabelledColumn> columns;  // the first is the primary key
  std::vector<LabelledFk> fks;
};

namespace schema_data {

inline const std::vector<std::string> kFirstEn = {"James", "Mary", "Robert", "Patricia", "John", "Jennifer",
                                                  "Michael", "Linda", "David", "Elizabeth", "William", "Susan",
                                                  "Richard", "Jessica", "Joseph", "Sarah", "Thomas", "Karen"};
inline const std::vector<std::string> kLastEn = {"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
                                                 "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez",
                                                 "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin"};
inline const std::vector<std::string> kFirstTr = {"Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Ahmet", "Zeynep",
                                                  "Ali", "Hatice", "Hüseyin", "Elif", "Hasan", "Merve", "İbrahim"};
inline const std::vector<std::string> kLastTr = {"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım",
                                                 "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan"};
inline const std::vector<std::string> kFirstDe = {"Hans", "Anna", "Peter", "Ursula", "Klaus", "Monika", "Jürgen",
                                                  "Sabine", "Wolfgang", "Petra", "Stefan", "Andrea", "Thomas"};
inline const std::vector<std::string> kLastDe = {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer",
                                                 "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter"};
inline const std::vector<std::string> kFirstFr = {"Marie", "Jean", "Nathalie", "Pierre", "Isabelle", "Michel",
                                                  "Sylvie", "Philippe", "Catherine", "Alain", "Françoise", "Nicolas"};
inline const std::vector<std::string> kLastFr = {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard",
                                                 "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent"};
inline const std::vector<std::string> kFirstEs = {"Antonio", "María", "Manuel", "Carmen", "José", "Ana", "Francisco",
                                                  "Isabel", "David", "Laura", "Javier", "Cristina", "Daniel"};
inline const std::vector<std::string> kLastEs = {"García", "Rodríguez", "González", "Fernández", "López", "Martínez",
                                                 "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz"};
inline const std::vector<std::string> kCitiesEn = {"New York", "Chicago", "Houston", "Phoenix", "Boston", "Seattle",
                                                   "Denver", "Austin", "Portland", "Atlanta"};
inline const std::vector<std::string> kCitiesTr = {"İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Konya",
                                                   "Adana", "Gaziantep", "Kayseri", "Eskişehir"};
inline const std::vector<std::string> kCitiesDe = {"Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main",
                                                   "Stuttgart", "Düsseldorf", "Leipzig", "Dortmund", "Essen"};
inline const std::vector<std::string> kCitiesFr = {"Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes",
                                                   "Strasbourg", "Montpellier", "Bordeaux", "Lille"};
inline const std::vector<std::string> kCitiesEs = {"Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga",
                                                   "Murcia", "Palma", "Bilbao", "Alicante"};

inline const std::string& Pick(const std::vector<std::string>& v, int i, int salt = 0) {
  return v[static_cast<size_t>((i * 7 + salt * 13 + i / 5) % static_cast<int>(v.size()))];
}

inline std::string Pad(int v, int width) {
  std::string s = std::to_string(v);
  while (static_cast<int>(s.size()) < width) s = "0" + s;
  return s;
}

inline std::string AsciiLower(std::string s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
    else if (c < 0x80 && c != ' ') out.push_back(static_cast<char>(c));
  }
  return out;
}

// A date in `from_year`..`from_year + span`.
inline std::string Date(int i, int from_year, int span) {
  return std::to_string(from_year + (i * 37) % span) + "-" + Pad(1 + (i * 5) % 12, 2) + "-" + Pad(1 + (i * 11) % 28, 2);
}

// A Luhn-valid 16-digit number starting with `prefix` (6 digits).
inline std::string Luhn16(const std::string& prefix, int i) {
  std::string d = prefix + Pad((i * 7919) % 1000000000, 9);
  int sum = 0;
  for (int k = static_cast<int>(d.size()) - 1, n = 0; k >= 0; --k, ++n) {
    int x = d[static_cast<size_t>(k)] - '0';
    if (n % 2 == 0) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
  }
  return d + std::to_string((10 - sum % 10) % 10);
}

// A TC Kimlik number with valid check digits.
inline std::string TcKimlik(int i) {
  std::string d = std::to_string(1 + (i * 7) % 9) + Pad((i * 104729) % 100000000, 8);
  int odd = 0, even = 0;
  for (int k = 0; k < 9; ++k) (k % 2 == 0 ? odd : even) += d[static_cast<size_t>(k)] - '0';
  const int d10 = ((odd * 7 - even) % 10 + 10) % 10;
  d += std::to_string(d10);
  int total = 0;
  for (char c : d) total += c - '0';
  return d + std::to_string(total % 10);
}

// A German IBAN with valid mod-97 check digits.
inline std::string GermanIban(int i) {
  const std::string bban = "37040044" + Pad((i * 7793) % 1000000000, 10);
  // mod 97 of BBAN + "DE00" as digits (D=13, E=14).
  std::string digits = bban + "131400";
  int mod = 0;
  for (char c : digits) mod = (mod * 10 + (c - '0')) % 97;
  const int check = 98 - mod;
  return "DE" + Pad(check, 2) + bban;
}

}  // namespace schema_data

// The schema. Row counts are small: detection reads samples.
inline std::vector<LabelledTable> LabelledSchema() {
  using namespace schema_data;
  using analyze::PiiType;
  using V = std::optional<std::string>;
  auto s = [](std::string v) { return V(std::move(v)); };
  std::vector<LabelledTable> t;

  t.push_back({"Employee", 8,
               {{"EmployeeId", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"FirstName", "vc", PiiType::kFirstName, [=](int i) { return s(Pick(kFirstEn, i, 1)); }},
                {"LastName", "vc", PiiType::kLastName, [=](int i) { return s(Pick(kLastEn, i, 2)); }},
                {"Title", "vc", PiiType::kNone,
                 [=](int i) { return s(i == 1 ? "General Manager" : i < 4 ? "Sales Manager" : "Sales Support Agent"); }},
                {"ReportsTo", "int", PiiType::kNone, [=](int i) { return i == 1 ? V() : s(std::to_string(i < 4 ? 1 : 2)); }},
                {"BirthDate", "ts", PiiType::kDateOfBirth, [=](int i) { return s(Date(i, 1955, 40) + " 00:00:00"); }},
                {"HireDate", "ts", PiiType::kNone, [=](int i) { return s(Date(i, 2002, 20) + " 00:00:00"); }},
                {"Address", "vc", PiiType::kAddress,
                 [=](int i) { return s(std::to_string(100 + i * 17) + " " + Pick(kLastEn, i, 3) + " Street"); }},
                {"City", "vc", PiiType::kCity, [=](int i) { return s(Pick(kCitiesEn, i)); }},
                {"PostalCode", "vc", PiiType::kPostalCode, [=](int i) { return s(Pad(10000 + i * 913, 5)); }},
                {"Phone", "vc", PiiType::kPhone, [=](int i) { return s("+1 (403) 262-" + Pad(3443 + i * 7, 4)); }},
                {"Fax", "vc", PiiType::kPhone, [=](int i) { return s("+1 (403) 262-" + Pad(3322 + i * 9, 4)); }},
                {"Email", "vc", PiiType::kEmail,
                 [=](int i) { return s(AsciiLower(Pick(kFirstEn, i, 1)) + "@chinookcorp.com"); }}},
               {{"ReportsTo", "Employee", "EmployeeId"}}});

  t.push_back({"categories", 10,
               {{"category_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"name", "vc", PiiType::kNone,
                 [=](int i) {
                   static const std::vector<std::string> c = {"Furniture", "Office", "Electronics", "Garden", "Kitchen",
                                                              "Toys", "Books", "Sports", "Lighting", "Storage"};
                   return s(c[static_cast<size_t>(i - 1)]);
                 }},
                {"parent_category_id", "int", PiiType::kNone, [=](int i) { return i <= 3 ? V() : s(std::to_string(1 + i % 3)); }}},
               {{"parent_category_id", "categories", "category_id"}}});

  t.push_back({"genres", 25,
               {{"GenreId", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"Name", "vc", PiiType::kNone,
                 [=](int i) {
                   static const std::vector<std::string> g = {
                       "Rock", "Jazz", "Metal", "Alternative & Punk", "Rock And Roll", "Blues", "Latin", "Reggae", "Pop",
                       "Soundtrack", "Bossa Nova", "Easy Listening", "Heavy Metal", "R&B/Soul", "Electronica/Dance",
                       "World", "Hip Hop/Rap", "Science Fiction", "TV Shows", "Sci Fi & Fantasy", "Drama", "Comedy",
                       "Alternative", "Classical", "Opera"};
                   return s(g[static_cast<size_t>(i - 1)]);
                 }}},
               {}});

  t.push_back({"customers", 200,
               {{"id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"first_name", "vc", PiiType::kFirstName, [=](int i) { return s(Pick(kFirstEn, i)); }},
                {"last_name", "vc", PiiType::kLastName, [=](int i) { return s(Pick(kLastEn, i, 5)); }},
                {"email", "vc", PiiType::kEmail,
                 [=](int i) { return s(AsciiLower(Pick(kFirstEn, i)) + "." + std::to_string(i) + "@example.com"); }},
                {"phone", "vc", PiiType::kPhone, [=](int i) { return s("+1 212 555 " + Pad(i, 4)); }},
                {"date_of_birth", "date", PiiType::kDateOfBirth, [=](int i) { return s(Date(i, 1950, 50)); }},
                {"created_at", "ts", PiiType::kNone, [=](int i) { return s(Date(i, 2023, 3) + " 10:00:00"); }},
                {"loyalty_tier", "vc", PiiType::kNone, [=](int i) { return s(i % 3 == 0 ? "gold" : i % 3 == 1 ? "silver" : "bronze"); }},
                {"email_verified", "bool", PiiType::kNone, [=](int i) { return s(i % 2 == 0 ? "1" : "0"); }},
                {"national_id", "vc", PiiType::kNationalId,
                 [=](int i) { return s(Pad(100 + i % 600, 3) + "-" + Pad(10 + i % 89, 2) + "-" + Pad(1000 + i, 4)); }},
                {"signup_ip", "inet", PiiType::kIpAddress,
                 [=](int i) { return s("203.0." + std::to_string(i % 250) + "." + std::to_string(1 + i % 200)); }},
                {"support_rep_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(3 + i % 3)); }}},
               {{"support_rep_id", "Employee", "EmployeeId"}}});

  t.push_back({"musteriler", 150,
               {{"musteri_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"ad", "vc", PiiType::kFirstName, [=](int i) { return s(Pick(kFirstTr, i)); }},
                {"soyad", "vc", PiiType::kLastName, [=](int i) { return s(Pick(kLastTr, i, 3)); }},
                {"tc_kimlik_no", "vc", PiiType::kNationalId, [=](int i) { return s(TcKimlik(i)); }},
                {"telefon", "vc", PiiType::kPhone, [=](int i) { return s("0532 " + Pad(100 + i, 3) + " " + Pad(i % 100, 2) + " " + Pad((i * 7) % 100, 2)); }},
                {"eposta", "vc", PiiType::kEmail, [=](int i) { return s("musteri" + std::to_string(i) + "@ornek.com.tr"); }},
                {"adres", "text", PiiType::kAddress,
                 [=](int i) { return s("Atatürk Cad. No:" + std::to_string(i) + " Kadıköy"); }},
                {"sehir", "vc", PiiType::kCity, [=](int i) { return s(Pick(kCitiesTr, i)); }},
                {"dogum_tarihi", "date", PiiType::kDateOfBirth, [=](int i) { return s(Date(i, 1960, 45)); }},
                {"kayit_tarihi", "ts", PiiType::kNone, [=](int i) { return s(Date(i, 2024, 2) + " 09:00:00"); }},
                {"musteri_tipi", "vc", PiiType::kNone, [=](int i) { return s(i % 4 == 0 ? "kurumsal" : "bireysel"); }}},
               {}});

  t.push_back({"Kunden", 150,
               {{"kundenNr", "int", PiiType::kNone, [=](int i) { return s(std::to_string(10000 + i)); }},
                {"vorname", "vc", PiiType::kFirstName, [=](int i) { return s(Pick(kFirstDe, i)); }},
                {"nachname", "vc", PiiType::kLastName, [=](int i) { return s(Pick(kLastDe, i, 2)); }},
                {"strasse", "vc", PiiType::kAddress, [=](int i) { return s("Hauptstraße " + std::to_string(i)); }},
                {"plz", "vc", PiiType::kPostalCode, [=](int i) { return s(Pad(10115 + i * 37, 5)); }},
                {"ort", "vc", PiiType::kCity, [=](int i) { return s(Pick(kCitiesDe, i)); }},
                {"geburtsdatum", "date", PiiType::kDateOfBirth, [=](int i) { return s(Date(i, 1945, 55)); }},
                {"telefonNummer", "vc", PiiType::kPhone, [=](int i) { return s("+49 30 " + Pad(1000000 + i * 7, 7)); }},
                {"iban", "vc", PiiType::kIban, [=](int i) { return s(GermanIban(i)); }},
                {"kundeSeit", "date", PiiType::kNone, [=](int i) { return s(Date(i, 2012, 12)); }}},
               {}});

  t.push_back({"clients", 150,
               {{"id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"prenom", "vc", PiiType::kFirstName, [=](int i) { return s(Pick(kFirstFr, i)); }},
                {"nom", "vc", PiiType::kLastName, [=](int i) { return s(Pick(kLastFr, i, 4)); }},
                {"courriel", "vc", PiiType::kEmail, [=](int i) { return s("client" + std::to_string(i) + "@exemple.fr"); }},
                {"telephone", "vc", PiiType::kPhone, [=](int i) { return s("+33 1 " + Pad(10 + i % 89, 2) + " " + Pad(i % 100, 2) + " " + Pad((i * 3) % 100, 2) + " " + Pad((i * 7) % 100, 2)); }},
                {"adresse", "vc", PiiType::kAddress, [=](int i) { return s(std::to_string(i) + " rue de la Paix"); }},
                {"code_postal", "vc", PiiType::kPostalCode, [=](int i) { return s(Pad(75001 + i % 20, 5)); }},
                {"ville", "vc", PiiType::kCity, [=](int i) { return s(Pick(kCitiesFr, i)); }},
                {"date_naissance", "date", PiiType::kDateOfBirth, [=](int i) { return s(Date(i, 1950, 50)); }},
                {"numero_securite_sociale", "vc", PiiType::kNationalId,
                 [=](int i) { return s(std::to_string(1 + i % 2) + Pad(50 + i % 50, 2) + Pad(1 + i % 12, 2) + Pad(75, 2) + Pad(100 + i, 6) + Pad(i % 97, 2)); }}},
               {}});

  t.push_back({"clientes", 150,
               {{"id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"nombre", "vc", PiiType::kFirstName, [=](int i) { return s(Pick(kFirstEs, i)); }},
                {"apellidos", "vc", PiiType::kLastName,
                 [=](int i) { return s(Pick(kLastEs, i, 1) + " " + Pick(kLastEs, i, 6)); }},
                {"correo", "vc", PiiType::kEmail, [=](int i) { return s("cliente" + std::to_string(i) + "@ejemplo.es"); }},
                {"telefono", "vc", PiiType::kPhone, [=](int i) { return s("+34 91 " + Pad(100 + i, 3) + " " + Pad(i % 100, 2) + " " + Pad(i % 90, 2)); }},
                {"direccion", "vc", PiiType::kAddress, [=](int i) { return s("Calle Mayor " + std::to_string(i) + ", 2º B"); }},
                {"ciudad", "vc", PiiType::kCity, [=](int i) { return s(Pick(kCitiesEs, i)); }},
                {"fecha_nacimiento", "date", PiiType::kDateOfBirth, [=](int i) { return s(Date(i, 1955, 45)); }},
                {"dni", "vc", PiiType::kNationalId,
                 [=](int i) {
                   const int n = 10000000 + i * 7331;
                   return s(std::to_string(n) + std::string(1, "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]));
                 }},
                {"pais", "vc", PiiType::kNone, [=](int) { return s("España"); }}},
               {}});

  t.push_back({"products", 100,
               {{"product_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"name", "vc", PiiType::kNone,
                 [=](int i) {
                   static const std::vector<std::string> a = {"Oak", "Steel", "Compact", "Deluxe", "Ergonomic", "Classic"};
                   static const std::vector<std::string> b = {"Desk", "Chair", "Lamp", "Shelf", "Cabinet", "Table", "Stool"};
                   return s(a[static_cast<size_t>(i % 6)] + " " + b[static_cast<size_t>(i % 7)] + " " + std::to_string(i));
                 }},
                {"sku", "vc", PiiType::kNone, [=](int i) { return s("SKU-" + Pad(i, 5)); }},
                {"description", "text", PiiType::kNone,
                 [=](int i) { return s("A sturdy piece with a " + std::string(i % 2 ? "matte" : "glossy") + " finish, easy to assemble and built to last for years"); }},
                {"price", "num", PiiType::kNone, [=](int i) { return s(std::to_string(10 + i * 3) + ".99"); }},
                {"category_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(1 + i % 10)); }}},
               {{"category_id", "categories", "category_id"}}});

  t.push_back({"orders", 400,
               {{"order_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"customer_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(1 + (i * 7) % 200)); }},
                {"order_number", "bigint", PiiType::kNone, [=](int i) { return s(std::to_string(5320000000LL + i * 7919)); }},
                {"shipping_address", "vc", PiiType::kAddress,
                 [=](int i) { return s(std::to_string(10 + i) + " " + Pick(kLastEn, i) + " Avenue, Apt " + std::to_string(i % 30)); }},
                {"billing_name", "vc", PiiType::kName, [=](int i) { return s(Pick(kFirstEn, i) + " " + Pick(kLastEn, i, 2)); }},
                {"status", "vc", PiiType::kNone, [=](int i) { return s(i % 3 == 0 ? "shipped" : i % 3 == 1 ? "paid" : "new"); }},
                {"total", "num", PiiType::kNone, [=](int i) { return s(std::to_string(20 + i % 500) + ".50"); }},
                {"notes", "text", PiiType::kFreeText,
                 [=](int i) -> V {
                   if (i % 4 == 0) return s("Please call me at +1 212 555 " + Pad(i % 10000, 4) + " before delivery");
                   if (i % 4 == 1) return s("Send the invoice to billing" + std::to_string(i) + "@example.com please, thanks");
                   if (i % 4 == 2) return s("Leave the parcel with the neighbour if nobody is at home");
                   return V();
                 }},
                {"placed_at", "ts", PiiType::kNone, [=](int i) { return s(Date(i, 2024, 2) + " 12:00:00"); }},
                {"client_ip", "inet", PiiType::kIpAddress, [=](int i) { return s("198.51.100." + std::to_string(i % 250)); }}},
               {{"customer_id", "customers", "id"}}});

  t.push_back({"order_items", 800,
               {{"order_item_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"order_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(1 + (i - 1) / 2)); }},
                {"product_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(1 + (i * 13) % 100)); }},
                {"quantity", "int", PiiType::kNone, [=](int i) { return s(std::to_string(1 + i % 5)); }},
                {"unit_price", "num", PiiType::kNone, [=](int i) { return s(std::to_string(10 + i % 90) + ".00"); }}},
               {{"order_id", "orders", "order_id"}, {"product_id", "products", "product_id"}}});

  t.push_back({"payments", 400,
               {{"payment_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"order_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"card_number", "vc", PiiType::kCreditCard, [=](int i) { return s(Luhn16(i % 2 ? "411111" : "555555", i)); }},
                {"cardholder_name", "vc", PiiType::kName, [=](int i) { return s(Pick(kFirstEn, i, 3) + " " + Pick(kLastEn, i, 4)); }},
                {"amount", "num", PiiType::kNone, [=](int i) { return s(std::to_string(20 + i % 500) + ".50"); }},
                {"paid_at", "ts", PiiType::kNone, [=](int i) { return s(Date(i, 2024, 2) + " 12:30:00"); }},
                {"reference_code", "vc", PiiType::kNone, [=](int i) { return s("PAY-" + Pad(i * 37, 8)); }}},
               {{"order_id", "orders", "order_id"}}});

  t.push_back({"user_accounts", 200,
               {{"id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"customer_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"username", "vc", PiiType::kUsername,
                 [=](int i) { return s(AsciiLower(Pick(kFirstEn, i)) + "_" + std::to_string(i * 3)); }},
                {"password_hash", "vc", PiiType::kPassword,
                 [=](int i) { return s("$2b$12$" + Pad(i * 7919, 22) + "abcdefghijklmnopqrstuvwxyzABCDE"); }},
                {"api_token", "vc", PiiType::kSecret,
                 [=](int i) { return s("tok_" + Pad(i * 104729, 12) + "aB3xY9kLmN2pQ7rS" + std::to_string(i)); }},
                {"last_login_ip", "inet", PiiType::kIpAddress, [=](int i) { return s("2001:db8::" + std::to_string(i)); }},
                {"is_active", "bool", PiiType::kNone, [=](int i) { return s(i % 5 ? "1" : "0"); }},
                {"lat", "float", PiiType::kGeoLocation, [=](int i) { return s("41." + Pad(i * 137 % 10000, 4) + "21"); }},
                {"lng", "float", PiiType::kGeoLocation, [=](int i) { return s("28." + Pad(i * 211 % 10000, 4) + "43"); }}},
               {{"customer_id", "customers", "id"}}});

  t.push_back({"support_tickets", 150,
               {{"ticket_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(i)); }},
                {"account_id", "int", PiiType::kNone, [=](int i) { return s(std::to_string(1 + (i * 3) % 200)); }},
                {"subject", "vc", PiiType::kNone,
                 [=](int i) { return s(i % 2 ? "Cannot log in" : "Where is my order?"); }},
                {"body", "text", PiiType::kFreeText,
                 [=](int i) {
                   return s(i % 3 == 0 ? "Hi, my new address is jane" + std::to_string(i) + "@mail.example and my phone +90 532 " + Pad(i, 3) + " 11 22"
                                       : "The app shows an error when I open the orders page on my phone");
                 }},
                {"assigned_to", "int", PiiType::kNone, [=](int i) { return s(std::to_string(3 + i % 6)); }},
                {"created_at", "ts", PiiType::kNone, [=](int i) { return s(Date(i, 2025, 1) + " 08:00:00"); }},
                {"priority", "vc", PiiType::kNone, [=](int i) { return s(i % 3 ? "normal" : "high"); }},
                {"kanal", "vc", PiiType::kNone, [=](int i) { return s(i % 2 ? "eposta" : "telefon"); }}},
               {{"account_id", "user_accounts", "id"}, {"assigned_to", "Employee", "EmployeeId"}}});
  return t;
}

}  // namespace phony::testing
