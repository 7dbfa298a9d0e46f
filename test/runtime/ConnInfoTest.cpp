// Unit tests for password redaction in libpq connection strings (runtime/ConnInfo.h).
#include "runtime/ConnInfo.h"

#include <gtest/gtest.h>

using strata::runtime::redactConnInfo;
using strata::runtime::redactSecretsIn;

namespace {

TEST(ConnInfoTest, LeavesStringsWithoutPasswordAlone) {
  EXPECT_EQ(redactConnInfo(""), "");
  EXPECT_EQ(redactConnInfo("host=/tmp port=5432 user=postgres dbname=app"),
            "host=/tmp port=5432 user=postgres dbname=app");
  EXPECT_EQ(redactConnInfo("postgres://app@db.example.com:5432/app?sslmode=require"),
            "postgres://app@db.example.com:5432/app?sslmode=require");
  EXPECT_EQ(redactConnInfo("  host = h   application_name='my app' "),
            "  host = h   application_name='my app' ");
  EXPECT_EQ(redactConnInfo("postgresql:///app"), "postgresql:///app");
}

TEST(ConnInfoTest, KeyValuePlain) {
  EXPECT_EQ(redactConnInfo("host=h password=secret user=u"), "host=h password=**** user=u");
  EXPECT_EQ(redactConnInfo("password=secret"), "password=****");
  EXPECT_EQ(redactConnInfo("user=u password=secret"), "user=u password=****");
}

TEST(ConnInfoTest, KeyValueSpacesAroundEquals) {
  EXPECT_EQ(redactConnInfo("host=h password = secret user=u"), "host=h password = **** user=u");
  // libpq skips whitespace after '=', so "secret" is the password here, not empty.
  EXPECT_EQ(redactConnInfo("password=   secret user=u"), "password=   **** user=u");
  EXPECT_EQ(redactConnInfo("\tpassword\t=\tsecret\n"), "\tpassword\t=\t****\n");
}

TEST(ConnInfoTest, KeyValueQuoted) {
  EXPECT_EQ(redactConnInfo("host=h password='with spaces' user=u"), "host=h password=**** user=u");
  EXPECT_EQ(redactConnInfo("password='it\\'s' user=u"), "password=**** user=u");
  EXPECT_EQ(redactConnInfo("password='back\\\\slash' user=u"), "password=**** user=u");
  EXPECT_EQ(redactConnInfo("password='a \\' user=fake' dbname=d"), "password=**** dbname=d");
  EXPECT_EQ(redactConnInfo("password='' user=u"), "password='' user=u");
}

TEST(ConnInfoTest, KeyValueEscapedUnquoted) {
  EXPECT_EQ(redactConnInfo("password=a\\ b user=u"), "password=**** user=u");
}

TEST(ConnInfoTest, KeyValueUnterminatedQuoteMasksToTheEnd) {
  EXPECT_EQ(redactConnInfo("host=h password='never closed user=u"), "host=h password=****");
}

TEST(ConnInfoTest, KeyValueSslPasswordAndCase) {
  EXPECT_EQ(redactConnInfo("sslkey=k.key sslpassword=keypass"), "sslkey=k.key sslpassword=****");
  EXPECT_EQ(redactConnInfo("PASSWORD=secret"), "PASSWORD=****");
}

TEST(ConnInfoTest, KeyValueSeveralPasswords) {
  EXPECT_EQ(redactConnInfo("password=one host=h password='two 2'"),
            "password=**** host=h password=****");
}

TEST(ConnInfoTest, KeyValueMissingEqualsMasksWhatFollows) {
  EXPECT_EQ(redactConnInfo("host=h password secret"), "host=h password ****");
}

TEST(ConnInfoTest, KeyValuePasswordLookalikeKeysAreNotMasked) {
  EXPECT_EQ(redactConnInfo("passfile=/home/u/.pgpass"), "passfile=/home/u/.pgpass");
  EXPECT_EQ(redactConnInfo("application_name=password"), "application_name=password");
}

TEST(ConnInfoTest, KeyValueNestedConnectionString) {
  EXPECT_EQ(redactConnInfo("dbname='postgres://u:secret@h/d' connect_timeout=3"),
            "dbname='postgres://u:****@h/d' connect_timeout=3");
  EXPECT_EQ(redactConnInfo("dbname='host=h password=secret'"), "dbname='host=h password=****'");
}

TEST(ConnInfoTest, UriUserInfo) {
  EXPECT_EQ(redactConnInfo("postgres://user:secret@host/db"), "postgres://user:****@host/db");
  EXPECT_EQ(redactConnInfo("postgresql://user:secret@host:5432/db?sslmode=require"),
            "postgresql://user:****@host:5432/db?sslmode=require");
  EXPECT_EQ(redactConnInfo("postgresql://:secret@host"), "postgresql://:****@host");
  EXPECT_EQ(redactConnInfo("POSTGRES://user:secret@host"), "POSTGRES://user:****@host");
  EXPECT_EQ(redactConnInfo("postgres://user:s%40cr%2Ft@host/db"), "postgres://user:****@host/db");
  EXPECT_EQ(redactConnInfo("postgres://user:secret@[::1]:5432,h2:5433/db"),
            "postgres://user:****@[::1]:5432,h2:5433/db");
  EXPECT_EQ(redactConnInfo("postgres://user:@host"), "postgres://user:@host");
}

TEST(ConnInfoTest, UriUnescapedSpecialCharactersInPassword) {
  EXPECT_EQ(redactConnInfo("postgres://user:p@ss@host/db"), "postgres://user:****@host/db");
  EXPECT_EQ(redactConnInfo("postgres://user:pa/ss@host/db"), "postgres://user:****@host/db");
  EXPECT_EQ(redactConnInfo("postgres://user:pa?ss@host/db"), "postgres://user:****@host/db");
}

TEST(ConnInfoTest, UriQueryPassword) {
  EXPECT_EQ(redactConnInfo("postgres://host/db?password=secret"),
            "postgres://host/db?password=****");
  EXPECT_EQ(redactConnInfo("postgresql:///db?host=/tmp&password=secret&sslmode=disable"),
            "postgresql:///db?host=/tmp&password=****&sslmode=disable");
  EXPECT_EQ(redactConnInfo("postgres://h/db?sslpassword=k&user=u@corp"),
            "postgres://h/db?sslpassword=****&user=u@corp");
  EXPECT_EQ(redactConnInfo("postgres://u:one@h/db?password=two"),
            "postgres://u:****@h/db?password=****");
  EXPECT_EQ(redactConnInfo("postgres://h/db?user=a@b&password=secret"),
            "postgres://h/db?user=a@b&password=****");
}

TEST(ConnInfoTest, UriWithoutUserInfoIsUntouched) {
  EXPECT_EQ(redactConnInfo("postgres://host:5432/db"), "postgres://host:5432/db");
  EXPECT_EQ(redactConnInfo("postgres://[::1]:5432/db"), "postgres://[::1]:5432/db");
}

TEST(ConnInfoTest, RedactSecretsInMessage) {
  // libpq quotes the whole URI in some parse errors.
  std::string uri = "postgres://u:hunter2!@[::1/db";
  std::string message = "end of string reached when looking for matching \"]\" in IPv6 host "
                        "address in URI: \"" +
                        uri + "\"";
  std::string redacted = redactSecretsIn(message, uri);
  EXPECT_EQ(redacted.find("hunter2"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("postgres://u:****@[::1/db"), std::string::npos) << redacted;

  // A fragment of the password on its own, and its percent-decoded form.
  EXPECT_EQ(redactSecretsIn("bad port \"s3cr3t\"", "password=s3cr3t"), "bad port \"****\"");
  EXPECT_EQ(redactSecretsIn("got 'p@ss/word'", "postgres://u:p%40ss%2Fword@h/d"), "got '****'");
  // Very short passwords are not hunted in free text (they would mangle it).
  EXPECT_EQ(redactSecretsIn("connection failed", "password=on"), "connection failed");
  EXPECT_EQ(redactSecretsIn("no secrets here", ""), "no secrets here");
}

} // namespace
