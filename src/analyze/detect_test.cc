#include "src/analyze/detect.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/analyze/analyzer.h"

namespace phony::analyze {
namespace {

using ::testing::ElementsAre;

ColumnFacts Col(const std::string& table, const std::string& name, ColumnClass cls = ColumnClass::kText) {
  return ColumnFacts{table, name, cls, false, false};
}

PiiType ByName(const std::string& table, const std::string& name, ColumnClass cls = ColumnClass::kText) {
  const Verdict v = DetectByName(Col(table, name, cls));
  return v.confidence >= 0.5 ? v.type : PiiType::kNone;
}

TEST(NameTokensTest, SplitsEveryNamingStyleAndFoldsLetters) {
  EXPECT_THAT(NameTokens("customer_email"), ElementsAre("customer", "email"));
  EXPECT_THAT(NameTokens("CustomerEmail"), ElementsAre("customer", "email"));
  EXPECT_THAT(NameTokens("customerEmailAddress"), ElementsAre("customer", "email", "address"));
  EXPECT_THAT(NameTokens("HTTPServerIP"), ElementsAre("http", "server", "ip"));
  EXPECT_THAT(NameTokens("address_line1"), ElementsAre("address", "line", "1"));
  EXPECT_THAT(NameTokens("DoğumTarihi"), ElementsAre("dogum", "tarihi"));
  EXPECT_THAT(NameTokens("Straße"), ElementsAre("strasse"));
  EXPECT_THAT(NameTokens("prénom"), ElementsAre("prenom"));
  EXPECT_THAT(NameTokens("teléfono-móvil"), ElementsAre("telefono", "movil"));
}

TEST(DetectByNameTest, EnglishTurkishGermanFrenchSpanish) {
  EXPECT_EQ(ByName("users", "email"), PiiType::kEmail);
  EXPECT_EQ(ByName("users", "EmailAddress"), PiiType::kEmail);
  EXPECT_EQ(ByName("kullanicilar", "e_posta"), PiiType::kEmail);
  EXPECT_EQ(ByName("users", "first_name"), PiiType::kFirstName);
  EXPECT_EQ(ByName("users", "LastName"), PiiType::kLastName);
  EXPECT_EQ(ByName("musteriler", "ad"), PiiType::kFirstName);
  EXPECT_EQ(ByName("musteriler", "soyad"), PiiType::kLastName);
  EXPECT_EQ(ByName("musteriler", "adres"), PiiType::kAddress);
  EXPECT_EQ(ByName("musteriler", "tc_kimlik"), PiiType::kNationalId);
  EXPECT_EQ(ByName("musteriler", "telefon"), PiiType::kPhone);
  EXPECT_EQ(ByName("musteriler", "dogum_tarihi", ColumnClass::kDate), PiiType::kDateOfBirth);
  EXPECT_EQ(ByName("kunden", "Vorname"), PiiType::kFirstName);
  EXPECT_EQ(ByName("kunden", "Nachname"), PiiType::kLastName);
  EXPECT_EQ(ByName("kunden", "Geburtsdatum", ColumnClass::kDate), PiiType::kDateOfBirth);
  EXPECT_EQ(ByName("kunden", "PLZ"), PiiType::kPostalCode);
  EXPECT_EQ(ByName("clients", "prenom"), PiiType::kFirstName);
  EXPECT_EQ(ByName("clients", "nom"), PiiType::kLastName);
  EXPECT_EQ(ByName("clients", "code_postal"), PiiType::kPostalCode);
  EXPECT_EQ(ByName("clientes", "apellido"), PiiType::kLastName);
  EXPECT_EQ(ByName("clientes", "direccion"), PiiType::kAddress);
  EXPECT_EQ(ByName("clientes", "fecha_nacimiento", ColumnClass::kDate), PiiType::kDateOfBirth);
  EXPECT_EQ(ByName("logins", "last_login_ip"), PiiType::kIpAddress);
  EXPECT_EQ(ByName("users", "password_hash"), PiiType::kPassword);
  EXPECT_EQ(ByName("integrations", "api_key"), PiiType::kSecret);
  EXPECT_EQ(ByName("stores", "latitude", ColumnClass::kNumber), PiiType::kGeoLocation);
  EXPECT_EQ(ByName("users", "username"), PiiType::kUsername);
  EXPECT_EQ(ByName("cards", "card_number"), PiiType::kCreditCard);
  EXPECT_EQ(ByName("accounts", "iban"), PiiType::kIban);
}

TEST(DetectByNameTest, TableContextDecidesWhatNameMeans) {
  EXPECT_EQ(ByName("customers", "name"), PiiType::kName);
  EXPECT_EQ(ByName("employee", "Name"), PiiType::kName);
  EXPECT_EQ(ByName("genre", "name"), PiiType::kNone);
  EXPECT_EQ(ByName("products", "name"), PiiType::kNone);
  EXPECT_EQ(ByName("orders", "customer_name"), PiiType::kName);
  EXPECT_EQ(ByName("orders", "company_name"), PiiType::kNone);
  EXPECT_EQ(ByName("files", "file_name"), PiiType::kNone);
}

TEST(DetectByNameTest, QualifiersAndTypesThatMakeAColumnNotPii) {
  EXPECT_EQ(ByName("users", "email_verified"), PiiType::kNone);
  EXPECT_EQ(ByName("users", "is_email_confirmed"), PiiType::kNone);
  EXPECT_EQ(ByName("users", "phone_type"), PiiType::kNone);
  EXPECT_EQ(ByName("orders", "address_id", ColumnClass::kInteger), PiiType::kNone);
  EXPECT_EQ(ByName("devices", "mac_address"), PiiType::kNone);
  EXPECT_EQ(ByName("campaigns", "email_template"), PiiType::kNone);
  EXPECT_EQ(ByName("users", "email", ColumnClass::kBool), PiiType::kNone);
  EXPECT_EQ(ByName("users", "created_at", ColumnClass::kTimestamp), PiiType::kNone);
  EXPECT_EQ(ByName("orders", "status"), PiiType::kNone);
  EXPECT_EQ(ByName("servers", "hostname"), PiiType::kNone);
}

Verdict Content(ColumnClass cls, const std::vector<std::string>& values, const std::string& name = "x",
                const std::string& table = "t") {
  const ColumnFacts c = Col(table, name, cls);
  return DetectByContent(c, ProfileValues(c, values));
}

TEST(DetectByContentTest, ValidatorsRecognizeEachShape) {
  EXPECT_EQ(Content(ColumnClass::kText, {"a@b.com", "ayse.yilmaz@ornek.com.tr", "x.y+z@mail.example", "q@w.io",
                                         "john@doe.net", "m@n.org"}).type,
            PiiType::kEmail);
  EXPECT_EQ(Content(ColumnClass::kText, {"+90 532 123 45 67", "+1 212 555 0123", "0532 765 43 21",
                                         "(212) 555-0199", "+49 30 1234567", "+33 1 23 45 67 89"}).type,
            PiiType::kPhone);
  // Visa, Mastercard and Amex test numbers: Luhn-valid.
  EXPECT_EQ(Content(ColumnClass::kText, {"4111111111111111", "5555555555554444", "378282246310005",
                                         "4012888888881881", "5105105105105100", "6011111111111117"}).type,
            PiiType::kCreditCard);
  EXPECT_EQ(Content(ColumnClass::kText, {"DE89370400440532013000", "GB82WEST12345698765432",
                                         "TR330006100519786457841326", "FR1420041010050500013M02606",
                                         "ES9121000418450200051332", "NL91ABNA0417164300"}).type,
            PiiType::kIban);
  EXPECT_EQ(Content(ColumnClass::kText, {"10.0.0.1", "192.168.1.20", "2001:db8::1", "8.8.8.8", "172.16.5.4",
                                         "fe80::1"}).type,
            PiiType::kIpAddress);
  EXPECT_EQ(Content(ColumnClass::kText, {"John Smith", "Mary Johnson", "Ayşe Yılmaz", "Hans Müller",
                                         "Marie Dubois", "Carlos García", "Emma Brown", "James Wilson"}).type,
            PiiType::kName);
  EXPECT_EQ(Content(ColumnClass::kText, {"Dear team, please call me at +90 532 123 45 67 tomorrow",
                                         "my email is jane@example.com, thanks a lot", "nothing to see here at all",
                                         "please deliver to the back door of the house", "ok thanks for the help"})
                .type,
            PiiType::kFreeText);
  EXPECT_EQ(Content(ColumnClass::kText, {"$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV0123",
                                         "$2b$12$bbcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV0123",
                                         "$2b$12$cbcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV0123",
                                         "$2b$12$dbcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV0123",
                                         "$2b$12$ebcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV0123"}).type,
            PiiType::kPassword);
}

TEST(DetectByContentTest, LookAlikesAreNotPii) {
  // Order numbers of ten digits are not phones; amounts are not cards.
  EXPECT_EQ(Content(ColumnClass::kInteger, {"5321234567", "5329876543", "5551234567", "2125550123", "3125550188",
                                            "4155550100"}).type,
            PiiType::kNone);
  EXPECT_EQ(Content(ColumnClass::kText, {"5321234567", "5329876543", "5551234567", "2125550123", "3125550188",
                                         "4155550100"}).type,
            PiiType::kNone);
  // Product names are not people.
  EXPECT_EQ(Content(ColumnClass::kText, {"Wireless Mouse", "USB-C Cable 2m", "Ergonomic Chair", "Standing Desk",
                                         "Laptop Stand", "Mechanical Keyboard", "Noise Cancelling Headphones"}).type,
            PiiType::kNone);
  // A category column.
  EXPECT_EQ(Content(ColumnClass::kText, {"new", "paid", "shipped", "new", "paid", "refunded", "new", "paid"}).type,
            PiiType::kNone);
  // Recent timestamps are not birth dates.
  EXPECT_EQ(Content(ColumnClass::kTimestamp, {"2025-01-02 10:00:00", "2025-03-04 11:00:00", "2024-12-31 00:00:00",
                                              "2026-01-01 09:30:00", "2025-07-07 07:07:07"}).type,
            PiiType::kNone);
}

TEST(JudgeTest, NameAndContentCombine) {
  const ColumnFacts email = Col("users", "email");
  const ContentProfile emails = ProfileValues(email, {"a@b.com", "c@d.org", "e@f.net", "g@h.io", "i@j.co"});
  const ColumnJudgement both = Judge(email, &emails);
  EXPECT_EQ(both.verdict.type, PiiType::kEmail);
  EXPECT_GT(both.verdict.confidence, 0.98);
  EXPECT_TRUE(both.by_name && both.by_content);

  // A column called email that holds no emails is doubtful.
  const ContentProfile flags = ProfileValues(email, {"yes", "no", "yes", "yes", "no", "no"});
  EXPECT_LT(Judge(email, &flags).verdict.confidence, 0.5);

  // Content alone decides a column its name says nothing about.
  const ColumnFacts contact = Col("orders", "contact");
  const ContentProfile phones = ProfileValues(contact, {"+90 532 123 45 67", "+1 212 555 0123", "0532 765 43 21",
                                                        "+44 20 7946 0958", "+49 30 1234567"});
  const ColumnJudgement by_content = Judge(contact, &phones);
  EXPECT_EQ(by_content.verdict.type, PiiType::kPhone);
  EXPECT_FALSE(by_content.by_name);
  EXPECT_TRUE(by_content.by_content);

  // genre.name is not people; artist-like names from a table of people are.
  const ColumnFacts genre = Col("genre", "name");
  const ContentProfile genres = ProfileValues(genre, {"Rock", "Jazz", "Metal", "Alternative & Punk", "Blues", "Latin",
                                                      "Reggae", "Pop", "Soundtrack", "Classical"});
  EXPECT_LT(Judge(genre, &genres).verdict.confidence, 0.5);
}

TEST(SingularTest, EnglishAndTurkishPlurals) {
  EXPECT_EQ(Singular("customers"), "customer");
  EXPECT_EQ(Singular("categories"), "category");
  EXPECT_EQ(Singular("addresses"), "address");
  EXPECT_EQ(Singular("people"), "person");
  EXPECT_EQ(Singular("status"), "status");
  EXPECT_EQ(Singular("musteriler"), "musteri");
  EXPECT_EQ(Singular("boxes"), "box");
}

}  // namespace
}  // namespace phony::analyze
