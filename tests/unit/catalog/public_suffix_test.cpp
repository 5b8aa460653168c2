// Catalog destinations anchored at a public suffix ("*.co.uk", ".com.au",
// ".github.io") are refused, with the Public Suffix List Debian ships; a
// destination of a megabyte is not echoed whole; a FIFO given as a catalog
// path is named for what it is.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/public_suffix.hpp"

namespace callwall::catalog::public_suffix_test {
namespace {

using Section = PublicSuffixList::Section;

TEST(PublicSuffixList, RulesWildcardsExceptionsAndSections) {
    const PublicSuffixList psl(
        "// ===BEGIN ICANN DOMAINS===\n"
        "com\n"
        "co.uk\n"
        "*.ck\n"
        "!www.ck\n"
        "// a comment\n"
        "\n"
        "// ===END ICANN DOMAINS===\n"
        "// ===BEGIN PRIVATE DOMAINS===\n"
        "github.io  trailing words are ignored\n"
        "CloudFront.NET\n");
    EXPECT_EQ(psl.public_suffix("com"), Section::Icann);
    EXPECT_EQ(psl.public_suffix("co.uk"), Section::Icann);
    EXPECT_EQ(psl.public_suffix("anything.ck"), Section::Icann);
    EXPECT_EQ(psl.public_suffix("www.ck"), Section::None);
    EXPECT_EQ(psl.public_suffix("github.io"), Section::Private);
    EXPECT_EQ(psl.public_suffix("cloudfront.net"), Section::Private);
    EXPECT_EQ(psl.public_suffix("example.com"), Section::None);
    EXPECT_EQ(psl.public_suffix("a.co.uk"), Section::None);
    EXPECT_EQ(psl.public_suffix("zz"), Section::Icann) << "the default rule '*': any top-level label";
    EXPECT_EQ(psl.public_suffix(""), Section::None);
}

std::string one_entry(const std::string& destination, bool third_party = false) {
    return "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n[[entry]]\nid = \"e1\"\n"
           "product = \"P\"\nservice = \"S\"\nrequired = true\nsource = { file = \"s.txt\", section = \"A\" }\n"
           "transport = \"tcp\"\nports = [443]\ndestinations = [\"" +
           destination + "\"]\n" + (third_party ? "third_party = true\n" : "");
}

std::vector<std::string> errors_of(const std::string& text) {
    LoadResult r = load_string("t.toml", text);
    std::vector<std::string> out;
    for (const Diagnostic& d : r.diagnostics) out.push_back(d.to_string());
    EXPECT_EQ(r.ok(), out.empty());
    return out;
}

TEST(CatalogPublicSuffix, WildcardsAtAPublicSuffixAreRefused) {
    if (!PublicSuffixList::system()) GTEST_SKIP() << kPublicSuffixListPath << " is missing (Debian: publicsuffix)";
    // A top-level label alone was refused before (too broad) and still is.
    for (const std::string d : {"*.com", ".uk"}) EXPECT_EQ(errors_of(one_entry(d)).size(), 1u) << d;
    for (const std::string d : {"*.co.uk", ".com.au", ".github.io", "*.CO.UK.", "*.blogspot.com"}) {
        SCOPED_TRACE(d);
        const auto e = errors_of(one_entry(d));
        ASSERT_EQ(e.size(), 1u);
        EXPECT_NE(e[0].find("a public suffix"), std::string::npos) << e[0];
        EXPECT_NE(e[0].find("t.toml:13:"), std::string::npos) << e[0];
    }
    // A hosting platform's suffix is a third party's, never the vendor's.
    EXPECT_TRUE(errors_of(one_entry("*.github.io", true)).empty());
    // But not a registry's.
    EXPECT_EQ(errors_of(one_entry("*.co.uk", true)).size(), 1u);
    // A vendor's own names under those suffixes are fine.
    for (const std::string d : {"*.vendor.co.uk", ".vendor.com.au", "*.vendor.github.io", "www.co.uk", "*.x.com"})
        EXPECT_TRUE(errors_of(one_entry(d)).empty()) << d;
}

TEST(CatalogPublicSuffix, TheBundledCatalogPasses) {
    const LoadResult r = load(std::vector<std::filesystem::path>{bundled_catalog_dir()});
    for (const Diagnostic& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    EXPECT_TRUE(r.ok());
}

TEST(CatalogMessages, AHugeDestinationIsNotEchoedWhole) {
    const std::string huge(1 << 20, 'a');
    const auto e = errors_of(one_entry(huge + ".example.com"));
    ASSERT_EQ(e.size(), 1u);
    EXPECT_LT(e[0].size(), 600u) << e[0].substr(0, 600);
    EXPECT_NE(e[0].find("(1048588 bytes)"), std::string::npos) << e[0].substr(0, 600);
}

TEST(CatalogMessages, AFifoIsNamedForWhatItIs) {
    const std::filesystem::path fifo =
        std::filesystem::temp_directory_path() / ("callwall-catalog-fifo-" + std::to_string(::getpid()));
    std::filesystem::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const LoadResult r = load(std::vector<std::filesystem::path>{fifo});
    std::filesystem::remove(fifo);
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_NE(r.diagnostics[0].message.find("not a regular file or directory"), std::string::npos)
        << r.diagnostics[0].to_string();
}

}  // namespace
}  // namespace callwall::catalog::public_suffix_test
