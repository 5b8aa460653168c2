// Catalog validation: one test per error, with the exact message and location.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/catalog/catalog_test_util.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog {
namespace {

// A one-entry catalog file; each field is one line so a test can replace it and
// knows its line number.
struct Lines {
    std::string transport = "transport = \"tcp\"";  // line 11
    std::string ports = "ports = [443]";  // line 12
    std::string destinations = "destinations = [\"*.x.com\"]";  // line 13
    std::string source = "source = { file = \"s.txt\", section = \"A\" }";  // line 10
    std::string extra;  // line 14...
};

std::string make(const Lines& l) {
    return "schema = 1\n"  // 1
           "[document]\n"  // 2
           "vendor = \"V\"\n"  // 3
           "sources = [\"s.txt\"]\n"  // 4
           "[[entry]]\n"  // 5
           "id = \"e1\"\n"  // 6
           "product = \"P\"\n"  // 7
           "service = \"S\"\n"  // 8
           "required = true\n"  // 9
           + l.source + "\n"  // 10
           + l.transport + "\n"  // 11
           + l.ports + "\n"  // 12
           + l.destinations + "\n"  // 13
           + l.extra;  // 14
}

std::vector<std::string> errors_of(std::string_view text, std::string_view name = "t.toml") {
    LoadResult r = load_string(name, text);
    std::vector<std::string> out;
    for (const Diagnostic& d : r.diagnostics) out.push_back(d.to_string());
    EXPECT_EQ(r.ok(), out.empty());
    return out;
}

using Errors = std::vector<std::string>;

TEST(CatalogValidation, BaseFileIsValid) {
    LoadResult r = load_string("t.toml", make({}));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.catalog->entries().size(), 1u);
    EXPECT_EQ(r.catalog->entries()[0].defined_at.line, 5u);
}

// --- unknown keys ----------------------------------------------------------

TEST(CatalogValidation, UnknownKeyInEntry) {
    Lines l;
    l.extra = "prots = [443]\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:14:1: error: unknown key 'prots' in [[entry]] 'e1'; expected one of: id, product, "
                     "service, transport, ports, destinations, direction, required, third_party, any_fallback, "
                     "conditions, source, provenance, assumed, notes, probe_hosts"});
}

// --- probe_hosts -------------------------------------------------------------

TEST(CatalogValidation, ProbeHostsAreNamesUnderTheDestinations) {
    Lines l;
    l.extra = "probe_hosts = [\"A.x.com\", \"b.x.com.\"]\n";
    LoadResult r = load_string("t.toml", make(l));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.catalog->entries()[0].probe_hosts, (std::vector<std::string>{"a.x.com", "b.x.com"}));
    EXPECT_NE(render_json(*r.catalog, {}).find(",\"probe_hosts\":[\"a.x.com\",\"b.x.com\"]"), std::string::npos);
    EXPECT_NE(render_show(*r.catalog, "e1")->find("probe hosts:    a.x.com, b.x.com (names callwall probe uses"),
              std::string::npos)
        << *render_show(*r.catalog, "e1");
    EXPECT_TRUE(load_string("t.toml", make({})).catalog->entries()[0].probe_hosts.empty());
}

TEST(CatalogValidation, ProbeHostsThatAreNotConcreteNamesOrMatchNothing) {
    Lines l;
    l.extra = "probe_hosts = [\"*.x.com\", \"x.com\", \"a.y.com\", 5, \"a.x.com\", \"a.x.com\"]\n";
    EXPECT_EQ(errors_of(make(l)),
              (Errors{"t.toml:14:16: error: malformed probe host '*.x.com'; expected a host name such as "
                      "'a.turn.example.com' (no wildcard)",
                      "t.toml:14:27: error: probe host 'x.com' matches none of the entry's destinations; expected a "
                      "name under one of them",
                      "t.toml:14:36: error: probe host 'a.y.com' matches none of the entry's destinations; expected a "
                      "name under one of them",
                      "t.toml:14:47: error: expected each probe host to be a string, got an integer",
                      "t.toml:14:61: error: duplicate probe host 'a.x.com'; expected each once"}));
    l.extra = "probe_hosts = \"a.x.com\"\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:14:15: error: expected 'probe_hosts' to be an array of host names, got a string"});
}

TEST(CatalogValidation, UnknownKeyInDocument) {
    const std::string text =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n  vendr = \"x\"\n"
        "[[product]]\nid = \"p\"\nproduct = \"P\"\nallowlist_supported = false\nadvice = \"a\"\n"
        "source = { file = \"s.txt\", section = \"A\" }\n";
    EXPECT_EQ(errors_of(text),
              Errors{"t.toml:5:3: error: unknown key 'vendr' in [document]; expected one of: vendor, edition, date, "
                     "date_as_written, title, sources, authoritative, reconciliation, direction, "
                     "direction_assumed, prefers, notes"});
}

TEST(CatalogValidation, UnknownKeyInSourceAndConditions) {
    Lines l;
    l.source = "source = { file = \"s.txt\", section = \"A\", page = 3 }";
    l.extra = "conditions = { feature = \"F\", sdk = \"1\" }\n";
    EXPECT_EQ(errors_of(make(l)),
              (Errors{"t.toml:10:43: error: unknown key 'page' in [entry.source]; expected one of: file, section",
                      "t.toml:14:31: error: unknown key 'sdk' in [entry.conditions]; expected one of: sdk_version, "
                      "feature, local_config"}));
}

TEST(CatalogValidation, UnknownTopLevelKey) {
    const std::string text =
        "schema = 1\nentries = 3\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n"
        "[[product]]\nid = \"p\"\nproduct = \"P\"\nallowlist_supported = false\nadvice = \"a\"\n"
        "source = { file = \"s.txt\", section = \"A\" }\n";
    EXPECT_EQ(errors_of(text),
              Errors{"t.toml:2:1: error: unknown key 'entries' in the top level; expected one of: schema, document, "
                     "product, entry"});
}

// --- ports -----------------------------------------------------------------

TEST(CatalogValidation, PortZero) {
    Lines l;
    l.ports = "ports = [0]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:12:10: error: port 0 is out of range; expected an integer from 1 to 65535"});
}

TEST(CatalogValidation, PortAbove65535) {
    Lines l;
    l.ports = "ports = [443, 65536]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:12:15: error: port 65536 is out of range; expected an integer from 1 to 65535"});
}

TEST(CatalogValidation, NegativePortAndRangeEnd) {
    Lines l;
    l.ports = "ports = [-1, [1, 70000]]";
    EXPECT_EQ(errors_of(make(l)),
              (Errors{"t.toml:12:10: error: port -1 is out of range; expected an integer from 1 to 65535",
                      "t.toml:12:18: error: port 70000 is out of range; expected an integer from 1 to 65535"}));
}

TEST(CatalogValidation, ReversedRange) {
    Lines l;
    l.ports = "ports = [[6000, 5866]]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:12:10: error: reversed port range [6000, 5866]; expected [low, high] with low <= high"});
}

TEST(CatalogValidation, RangeWithThreeElements) {
    Lines l;
    l.ports = "ports = [[1, 2, 3]]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:12:10: error: a port range needs exactly 2 elements, got 3; expected [low, high]"});
}

TEST(CatalogValidation, PortAsString) {
    Lines l;
    l.ports = "ports = [\"5866-6000\"]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:12:10: error: expected a port (an integer from 1 to 65535) or a range [low, high], "
                     "got a string"});
}

TEST(CatalogValidation, EmptyAndMissingPorts) {
    Lines l;
    l.ports = "ports = []";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:12:9: error: 'ports' is empty; expected at least one port or [low, high] range"});
    l.ports = "";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:5:1: error: missing key 'ports' in [[entry]] 'e1'; expected an array of ports and "
                     "[low, high] ranges"});
}

// --- destinations ----------------------------------------------------------

std::string destination_error(std::string_view pattern, std::string_view reason) {
    return "t.toml:13:17: error: malformed destination '" + std::string(pattern) + "': " + std::string(reason) +
           "; expected '*.example.com', '.example.com', 'host.example.com' or 'ANY'";
}

TEST(CatalogValidation, MalformedDestinations) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"*foo.x.com", "'*' must be the whole leftmost label, as in '*.example.com'"},
        {"a.*.x.com", "'*' is only allowed as the whole leftmost label, as in '*.example.com'"},
        {"*.*.x.com", "'*' is only allowed as the whole leftmost label, as in '*.example.com'"},
        {"*", "'*' must be the whole leftmost label, as in '*.example.com'"},
        {"x..com", "it has an empty label"},
        {".", "the name is empty"},
        {"..x.com", "it has an empty label"},
        {"x.com..", "it has an empty label"},
        {"com", "it needs at least two labels (a top-level domain alone is too broad)"},
        {"*.com", "it needs at least two labels (a top-level domain alone is too broad)"},
        {".io", "it needs at least two labels (a top-level domain alone is too broad)"},
        {"192.0.2.1", "IP addresses are not supported, only names or ANY"},
        {"any", "write ANY in capitals for any address"},
        {"a b.com", "it contains whitespace"},
        {"", "the destination is empty"},
        {"x!.com", "invalid character '!' (letters, digits, '-' and '_' only)"},
        {"-x.com", "a label starts or ends with '-'"},
        {std::string(64, 'a') + ".com", "a label is longer than 63 characters"},
    };
    for (const auto& [pattern, reason] : cases) {
        Lines l;
        l.destinations = "destinations = [\"" + pattern + "\"]";
        EXPECT_EQ(errors_of(make(l)), Errors{destination_error(pattern, reason)}) << pattern;
    }
}

TEST(CatalogValidation, NameTooLong) {
    std::string name;
    while (name.size() < 260) name += "abcdefghi.";
    name += "com";
    Lines l;
    l.destinations = "destinations = [\"" + name + "\"]";
    EXPECT_EQ(errors_of(make(l)), Errors{destination_error(name, "the name is longer than 253 characters")});
}

TEST(CatalogValidation, AnyMixedWithNames) {
    Lines l;
    l.destinations = "destinations = [\"x.com\", \"ANY\"]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:13:26: error: 'ANY' cannot be combined with names in one entry; expected either "
                     "[\"ANY\"] or a list of names"});
}

TEST(CatalogValidation, DuplicateDestination) {
    Lines l;
    l.destinations = "destinations = [\".x.com\", \".X.com.\"]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:13:27: error: duplicate destination '.X.com.' (same as '.x.com'); expected each "
                     "destination once"});
}

TEST(CatalogValidation, DestinationsNotStrings) {
    Lines l;
    l.destinations = "destinations = \"*.x.com\"";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:13:16: error: expected 'destinations' to be an array of strings, got a string"});
    l.destinations = "destinations = []";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:13:16: error: 'destinations' is empty; expected at least one name, or [\"ANY\"]"});
}

// --- ids -------------------------------------------------------------------

TEST(CatalogValidation, DuplicateIdAcrossFiles) {
    const std::vector<SourceText> files = {{"a.toml", make({})}, {"b.toml", make({})}};
    LoadResult r = load_sources(files);
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].to_string(),
              "b.toml:5:1: error: duplicate id 'e1'; first defined at a.toml:5:1, expected ids to be unique");
}

// A user's file reusing a bundled id is told so in the user's file, even when
// it loads before the bundled one.
TEST(CatalogValidation, DuplicateOfABundledIdIsReportedInTheUsersFile) {
    const std::string bundled = (bundled_catalog_dir() / "zz_vendor.toml").string();
    for (const bool user_first : {true, false}) {
        std::vector<SourceText> files = {{"/home/u/aa.toml", make({})}, {bundled, make({})}};
        if (!user_first) std::swap(files[0], files[1]);
        LoadResult r = load_sources(files);
        ASSERT_EQ(r.diagnostics.size(), 1u);
        EXPECT_EQ(r.diagnostics[0].to_string(),
                  "/home/u/aa.toml:5:1: error: duplicate id 'e1'; the bundled catalog defines it at " + bundled +
                      ":5:1, expected ids to be unique (choose another id, or give your file the bundled file's name "
                      "to replace it)")
            << (user_first ? "user file first" : "bundled file first");
    }
}

// Several files are parsed on two threads: what a load of many files gives
// is what each file gives alone, in the files' order — the entries when all
// are valid, every file's errors (and only once) when some are not.
TEST(CatalogValidation, ManyFilesGiveWhatEachGivesAloneInTheirOrder) {
    std::vector<SourceText> files;
    std::vector<std::string> ids, errors;
    for (int i = 0; i < 24; ++i) {
        Lines l;
        if (i % 5 == 2) l.ports = "ports = [0]";
        if (i % 7 == 3) l.destinations = "destinations = []";
        std::string text = make(l);
        const std::string id = "e" + std::to_string(i);
        text.replace(text.find("id = \"e1\""), 9, "id = \"" + id + "\"");
        const std::string name = "f" + std::to_string(100 + i) + ".toml";
        for (const std::string& e : errors_of(text, name)) errors.push_back(e);
        files.push_back({name, text});
        ids.push_back(id);
    }
    ASSERT_GE(errors.size(), 6u);
    LoadResult bad = load_sources(files);
    std::vector<std::string> got;
    for (const Diagnostic& d : bad.diagnostics) got.push_back(d.to_string());
    EXPECT_EQ(got, errors);

    std::vector<SourceText> valid;
    for (size_t i = 0; i < files.size(); ++i) {
        std::string text = make({});
        text.replace(text.find("id = \"e1\""), 9, "id = \"" + ids[i] + "\"");
        valid.push_back({files[i].name, text});
    }
    LoadResult good = load_sources(valid);
    ASSERT_TRUE(good.ok());
    std::vector<std::string> loaded;
    for (const Entry& e : good.catalog->entries()) loaded.push_back(e.id);
    EXPECT_EQ(loaded, ids);
    EXPECT_EQ(good.catalog->files().size(), files.size());
}

TEST(CatalogValidation, DuplicateIdWithinFileAndWithProduct) {
    Lines l;
    l.extra =
        "[[entry]]\nid = \"e1\"\nproduct = \"Q\"\nservice = \"S\"\nrequired = true\n"
        "source = { file = \"s.txt\", section = \"A\" }\ntransport = \"udp\"\nports = [1]\n"
        "destinations = [\"ANY\"]\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:14:1: error: duplicate id 'e1'; first defined at t.toml:5:1, expected ids to be unique"});
}

TEST(CatalogValidation, InvalidId) {
    std::string text = make({});
    text.replace(text.find("id = \"e1\""), 9, "id = \"E 1\"");
    EXPECT_EQ(errors_of(text),
              Errors{"t.toml:6:6: error: invalid id 'E 1'; expected up to 64 lowercase letters, digits, '.', '-' or "
                     "'_', starting with a letter or digit"});
}

// --- source ----------------------------------------------------------------

TEST(CatalogValidation, MissingSource) {
    Lines l;
    l.source = "";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:5:1: error: missing key 'source' in [[entry]] 'e1'; expected a [entry.source] table "
                     "with file and section"});
}

TEST(CatalogValidation, SourceFileNotInDocument) {
    Lines l;
    l.source = "source = { file = \"other.txt\", section = \"A\" }";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:10:19: error: source file 'other.txt' is not listed in [document] sources; expected "
                     "one of: s.txt"});
}

TEST(CatalogValidation, SourceWithoutSection) {
    Lines l;
    l.source = "source = { file = \"s.txt\" }";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:10:10: error: missing key 'section' in [entry.source]; expected a string"});
    l.source = "source = { file = \"s.txt\", section = \"\" }";
    EXPECT_EQ(errors_of(make(l)), Errors{"t.toml:10:38: error: 'section' is empty; expected a non-empty string"});
}

// --- other fields ----------------------------------------------------------

TEST(CatalogValidation, UnknownTransportAndDirection) {
    Lines l;
    l.transport = "transport = \"TCP\"";
    l.extra = "direction = \"out\"\n";
    EXPECT_EQ(errors_of(make(l)),
              (Errors{"t.toml:11:13: error: unknown transport 'TCP'; expected \"tcp\" or \"udp\"",
                      "t.toml:14:13: error: unknown direction 'out'; expected \"outbound\", \"inbound\" or \"both\""}));
}

TEST(CatalogValidation, RequiredMustBeBoolean) {
    std::string text = make({});
    text.replace(text.find("required = true"), 15, "required = \"yes\"");
    EXPECT_EQ(errors_of(text), Errors{"t.toml:9:12: error: expected 'required' to be true or false, got a string"});
}

TEST(CatalogValidation, SchemaMissingOrWrong) {
    std::string text = make({});
    EXPECT_EQ(errors_of(text.substr(text.find('\n') + 1)),
              Errors{"t.toml:1:1: error: missing key 'schema'; expected 'schema = 1' at the top of the file"});
    text.replace(0, 10, "schema = 3");
    EXPECT_EQ(errors_of(text), Errors{"t.toml:1:10: error: unsupported schema 3; expected schema = 1 or schema = 2"});
}

TEST(CatalogValidation, MissingDocument) {
    EXPECT_EQ(errors_of("schema = 1\n"),
              Errors{"t.toml:1:1: error: missing table [document]; expected [document] with at least vendor and "
                     "sources"});
}

TEST(CatalogValidation, TomlSyntaxErrorHasLocation) {
    Lines l;
    l.ports = "ports = [443";
    LoadResult r = load_string("t.toml", make(l));
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].file, "t.toml");
    EXPECT_EQ(r.diagnostics[0].line, 13u);
    EXPECT_TRUE(r.diagnostics[0].message.starts_with("TOML syntax: ")) << r.diagnostics[0].message;
}

// Found by the fuzzer: a table header whose key starts with a character that
// cannot start a key. toml++ 3.3 only asserts on it in debug header-only builds;
// the library build must report it as a syntax error with its location.
TEST(CatalogValidation, TableHeaderWithInvalidKeyStart) {
    for (std::string_view text : {std::string_view("[!x]\n"), std::string_view("[\0x]\n", 5)}) {
        LoadResult r = load_string("t.toml", text);
        ASSERT_FALSE(r.ok());
        ASSERT_EQ(r.diagnostics.size(), 1u);
        EXPECT_EQ(r.diagnostics[0].line, 1u);
        EXPECT_EQ(r.diagnostics[0].column, 2u);
        EXPECT_TRUE(r.diagnostics[0].message.starts_with("TOML syntax: ")) << r.diagnostics[0].message;
    }
}

// The lexer in front of toml++ (loader.cpp, prescan) stops the input shapes
// toml++ 3.3 has undefined behaviour on, and lets everything else through.
TEST(CatalogValidation, NonAsciiOutsideStrings) {
    Lines l;
    l.extra = "notes = \"caf\xC3\xA9\"  # comment \xE2\x80\x94 fine\n  \xD2\x92 = 1\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:15:3: error: TOML syntax: non-ASCII character outside a quoted string or comment; "
                     "expected it only inside quotes or after '#'"});
}

TEST(CatalogValidation, ByteOrderMarkIsCalledOne) {
    EXPECT_EQ(errors_of("\xEF\xBB\xBF" + make({})),
              Errors{"t.toml:1:1: error: TOML syntax: the file starts with a UTF-8 byte order mark (BOM); expected "
                     "UTF-8 without a BOM (save the file again without it)"});
}

// An internationalized name is not cut to half a UTF-8 character; a control
// byte in a value never reaches the terminal raw.
TEST(CatalogValidation, IdnAndControlBytesInDestinations) {
    Lines l;
    l.destinations =
        "destinations = [\"b\xC3\xBC"
        "cher.example\"]";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:13:17: error: malformed destination 'b\xC3\xBC"
                     "cher.example': it has non-ASCII "
                     "characters: write an internationalized name in its ASCII (punycode) form, e.g. "
                     "'xn--bcher-kva.example' for 'b\xC3\xBC"
                     "cher.example'; expected '*.example.com', '.example.com', "
                     "'host.example.com' or 'ANY'"});
    l.destinations = "destinations = [\"a\\u0000b.example\"]";
    const Errors e = errors_of(make(l));
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].find('\0'), std::string::npos) << "a NUL byte in the message";
    EXPECT_NE(e[0].find("'a\\x00b.example': control character 0x00"), std::string::npos) << e[0];
}

TEST(CatalogValidation, NonAsciiAfterLineEndingBackslash) {
    Lines l;
    l.extra = "notes = \"\"\"a \\\n   \xC2\xA7 b\"\"\"\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:15:4: error: TOML syntax: non-ASCII character first after a line-ending backslash in a "
                     "multi-line string (toml++ 3.3 mishandles it); expected an ASCII character first"});
    l.extra = "notes = \"\"\"a \\\n   b \xC2\xA7\"\"\"\n";  // ASCII first: fine
    EXPECT_EQ(errors_of(make(l)), Errors{});
}

TEST(CatalogValidation, LexerAcceptsValidShapes) {
    Lines l;
    l.ports = "ports = [\n  [1, 2],\n  [3, 4], # [not a header\n]";
    l.destinations = "\"destinations\" = ['.x.com', \"*.y.com\"]";
    l.extra = "notes = '''x ]\n[ & ''' \n[ \"entry\".conditions ]\nfeature = \"\"\"q\"\"\"\"\"\n";
    LoadResult r = load_string("t.toml", make(l));
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.catalog->entries()[0].conditions.feature, "q\"\"");
    EXPECT_EQ(r.catalog->entries()[0].ports.size(), 2u);
}

TEST(CatalogValidation, Mojibake) {
    std::string text = make({});
    text.replace(text.find("service = \"S\""), 13, "service = \"Agora\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2s\"");
    EXPECT_EQ(errors_of(text),
              Errors{"t.toml:8:11: error: text looks mis-decoded (the bytes of UTF-8 read as Windows-1252, e.g. "
                     "'\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2' for '\xE2\x80\x99'); expected the intended characters"});
}

TEST(CatalogValidation, SdkVersionCondition) {
    Lines l;
    l.extra = "[entry.conditions.sdk_version]\ntext = \"2.9.0 or later\"\nmin = \"2.9.x\"\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:16:7: error: invalid version '2.9.x'; expected dotted numbers like 2.9.0"});
    l.extra = "[entry.conditions.sdk_version]\ntext = \"odd\"\nmin = \"3.0\"\nbelow = \"2.9.0\"\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:17:9: error: version range is empty (min 3.0, below 2.9.0); expected min < below"});
    l.extra = "[entry.conditions.sdk_version]\ntext = \"any\"\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:14:1: error: [entry.conditions.sdk_version] has neither 'min' nor 'below'; expected at "
                     "least one bound"});
}

TEST(CatalogValidation, LocalConfigRecommendedOutsidePorts) {
    Lines l;
    l.extra = "[entry.conditions.local_config]\nkey = \"lowUdpPort..highUdpPort\"\nrecommended = [40000, 41000]\n";
    EXPECT_EQ(errors_of(make(l)),
              Errors{"t.toml:16:15: error: recommended range [40000, 41000] is not among the entry's ports; expected "
                     "'ports' to hold the recommended default"});
}

TEST(CatalogValidation, ProductRecords) {
    const std::string head = "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n";
    const std::string product =
        "[[product]]\nid = \"p\"\nproduct = \"P\"\nallowlist_supported = false\n"
        "advice = \"use the cloud proxy\"\nsource = { file = \"s.txt\", section = \"A\" }\n";
    // An entry for a product recorded as not allow-listable.
    EXPECT_EQ(errors_of(head + product + make({}).substr(make({}).find("[[entry]]"))),
              Errors{"t.toml:13:11: error: product 'P' is recorded as not allow-listable at t.toml:5:1; expected no "
                     "[[entry]] for it"});
    std::string yes = product;
    yes.replace(yes.find("false"), 5, "true");
    EXPECT_EQ(errors_of(head + yes),
              Errors{"t.toml:8:23: error: allowlist_supported = true in [[product]]; expected false (products with "
                     "rules are described by [[entry]] tables)"});
    std::string no_advice = product;
    no_advice.erase(no_advice.find("advice"), std::string("advice = \"use the cloud proxy\"\n").size());
    EXPECT_EQ(errors_of(head + no_advice),
              Errors{"t.toml:5:1: error: missing key 'advice' in [[product]] 'p'; expected a string"});
}

TEST(CatalogValidation, MultiSourceDocumentNeedsProvenance) {
    std::string text = make({});
    text.replace(text.find("sources = [\"s.txt\"]"), 19, "sources = [\"s.txt\", \"t.txt\"]\nauthoritative = \"s.txt\"");
    // Lines shift by one: [[entry]] is on line 6.
    text += "[entry.provenance]\nservice = [\"s.txt\"]\nports = [\"s.txt\", \"t.txt\"]\ntransport = [\"u.txt\"]\n";
    EXPECT_EQ(errors_of(text),
              (Errors{"t.toml:15:1: error: missing provenance for 'destinations' in [[entry]] 'e1'; the document has "
                      "several sources, expected [entry.provenance] destinations = [source files]",
                      "t.toml:18:14: error: source file 'u.txt' is not listed in [document] sources; expected one "
                      "of: s.txt, t.txt"}));
}

TEST(CatalogValidation, EveryErrorIsListedInOrder) {
    Lines l;
    l.transport = "transport = \"sctp\"";
    l.ports = "ports = [0, [9, 8]]";
    l.destinations = "destinations = [\"*bad.com\"]";
    l.extra = "colour = \"blue\"\n";
    LoadResult r = load_string("t.toml", make(l));
    ASSERT_FALSE(r.ok());
    std::vector<std::string> where;
    for (const Diagnostic& d : r.diagnostics) where.push_back(std::to_string(d.line) + ":" + std::to_string(d.column));
    EXPECT_EQ(where, (std::vector<std::string>{"11:13", "12:10", "12:13", "13:17", "14:1"}));
}

// --- files and directories ---------------------------------------------------

class CatalogDirTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("callwall_catalog_validation_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void write(const std::filesystem::path& p, const std::string& text) {
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
    }
    std::filesystem::path dir_;
};

TEST_F(CatalogDirTest, MissingPathAndEmptyDirectory) {
    std::filesystem::create_directories(dir_ / "empty");
    const std::vector<std::filesystem::path> paths = {dir_ / "nope", dir_ / "empty"};
    LoadResult r = load(paths);
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 2u);
    EXPECT_EQ(
        r.diagnostics[0].to_string(),
        (dir_ / "nope").string() + ": error: no such file or directory; expected a catalog directory or .toml file");
    EXPECT_EQ(r.diagnostics[1].to_string(),
              (dir_ / "empty").string() + ": error: no *.toml files in this directory; expected catalog files");
}

TEST_F(CatalogDirTest, LaterDirectoryAddsOrReplacesByFileName) {
    write(dir_ / "a" / "v.toml", make({}));
    std::string other = make({});
    other.replace(other.find("id = \"e1\""), 9, "id = \"e2\"");
    write(dir_ / "b" / "w.toml", other);
    std::string replaced = make({});
    replaced.replace(replaced.find("id = \"e1\""), 9, "id = \"e1b\"");
    write(dir_ / "b" / "v.toml", replaced);
    write(dir_ / "b" / "README.md", "not a catalog file");

    const std::vector<std::filesystem::path> only_a = {dir_ / "a"};
    LoadResult ra = load(only_a);
    ASSERT_TRUE(ra.ok());
    EXPECT_NE(ra.catalog->find_entry("e1"), nullptr);

    const std::vector<std::filesystem::path> both = {dir_ / "a", dir_ / "b"};
    LoadResult rb = load(both);
    ASSERT_TRUE(rb.ok());
    EXPECT_EQ(rb.catalog->find_entry("e1"), nullptr);  // a/v.toml replaced by b/v.toml
    EXPECT_NE(rb.catalog->find_entry("e1b"), nullptr);
    EXPECT_NE(rb.catalog->find_entry("e2"), nullptr);  // b/w.toml added
    ASSERT_EQ(rb.catalog->files().size(), 2u);
    EXPECT_EQ(rb.catalog->files()[0].path, (dir_ / "b" / "v.toml").string());
    EXPECT_EQ(rb.catalog->files()[1].path, (dir_ / "b" / "w.toml").string());
}

TEST_F(CatalogDirTest, DiagnosticsNameTheFilePath) {
    Lines l;
    l.ports = "ports = [0]";
    write(dir_ / "bad.toml", make(l));
    const std::vector<std::filesystem::path> paths = {dir_};
    LoadResult r = load(paths);
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].to_string(), (dir_ / "bad.toml").string() +
                                                ":12:10: error: port 0 is out of range; expected an integer from 1 "
                                                "to 65535");
}

}  // namespace
}  // namespace callwall::catalog

namespace callwall::catalog {
namespace {

// catalog/README.md's worked example stays a valid, complete catalog file.
TEST(CatalogReadme, WorkedExampleLoads) {
    const std::string dir = callwall::test::full_catalog_dir();
    if (!std::filesystem::exists(std::filesystem::path(dir) / "README.md")) GTEST_SKIP() << "no README.md in " << dir;
    const std::optional<std::string> example = callwall::test::readme_toml_block(dir);
    ASSERT_TRUE(example) << "no ```toml block";
    LoadResult r = load_string("README.md", *example);
    for (const Diagnostic& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.catalog->entries().size(), 6u);
    EXPECT_EQ(r.catalog->products().size(), 1u);
    EXPECT_TRUE(r.catalog->prefers_udp(0));
    const Entry* rec = r.catalog->find_entry("example-meet-2024.recorder.downstream");
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->direction, Direction::Inbound);
}

}  // namespace
}  // namespace callwall::catalog
