// `catalog list` JSON/text, `catalog show`, `catalog export` (nft, iptables),
// JSON escaping and the catalog digest.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog {
namespace {

using callwall::test::bundled_catalog;

// --- a minimal strict JSON reader, enough to check the listing's shape -------

struct Json;
using JsonArray = std::vector<Json>;
using JsonObject = std::map<std::string, Json>;
struct Json {
    std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>, std::shared_ptr<JsonObject>> v;
    bool is_null() const { return std::holds_alternative<std::nullptr_t>(v); }
    bool is_string() const { return std::holds_alternative<std::string>(v); }
    bool is_bool() const { return std::holds_alternative<bool>(v); }
    bool is_number() const { return std::holds_alternative<double>(v); }
    const std::string& str() const { return std::get<std::string>(v); }
    const JsonArray& arr() const { return *std::get<std::shared_ptr<JsonArray>>(v); }
    const JsonObject& obj() const { return *std::get<std::shared_ptr<JsonObject>>(v); }
    bool is_array() const { return std::holds_alternative<std::shared_ptr<JsonArray>>(v); }
    bool is_object() const { return std::holds_alternative<std::shared_ptr<JsonObject>>(v); }
};

class JsonReader {
public:
    explicit JsonReader(std::string_view s) : s_(s) {}
    Json parse() {
        Json j = value();
        ws();
        if (i_ != s_.size()) fail("trailing text");
        return j;
    }

private:
    [[noreturn]] void fail(const std::string& why) {
        throw std::runtime_error("JSON: " + why + " at offset " + std::to_string(i_));
    }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    bool eat(char c) {
        ws();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    Json value() {
        ws();
        if (i_ >= s_.size()) fail("unexpected end");
        const char c = s_[i_];
        if (c == '{') {
            ++i_;
            auto o = std::make_shared<JsonObject>();
            if (eat('}')) return Json{o};
            do {
                ws();
                if (i_ >= s_.size() || s_[i_] != '"') fail("expected key");
                std::string k = string();
                if (!eat(':')) fail("expected ':'");
                if (o->count(k)) fail("duplicate key " + k);
                (*o)[k] = value();
            } while (eat(','));
            if (!eat('}')) fail("expected '}'");
            return Json{o};
        }
        if (c == '[') {
            ++i_;
            auto a = std::make_shared<JsonArray>();
            if (eat(']')) return Json{a};
            do a->push_back(value());
            while (eat(','));
            if (!eat(']')) fail("expected ']'");
            return Json{a};
        }
        if (c == '"') return Json{string()};
        if (s_.substr(i_, 4) == "null") {
            i_ += 4;
            return Json{nullptr};
        }
        if (s_.substr(i_, 4) == "true") {
            i_ += 4;
            return Json{true};
        }
        if (s_.substr(i_, 5) == "false") {
            i_ += 5;
            return Json{false};
        }
        size_t j = i_;
        if (j < s_.size() && s_[j] == '-') ++j;
        while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') ++j;
        if (j == i_) fail("unexpected character");
        const double d = std::stod(std::string(s_.substr(i_, j - i_)));
        i_ = j;
        return Json{d};
    }
    std::string string() {
        ++i_;  // opening quote
        std::string out;
        while (true) {
            if (i_ >= s_.size()) fail("unterminated string");
            const char c = s_[i_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("raw control character in string");
            if (c != '\\') {
                out.push_back(c);
                continue;
            }
            if (i_ >= s_.size()) fail("bad escape");
            const char e = s_[i_++];
            switch (e) {
                case '"': out.push_back('"'); break;
                case '\\': out.push_back('\\'); break;
                case '/': out.push_back('/'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    if (i_ + 4 > s_.size()) fail("bad \\u");
                    const unsigned v = std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16);
                    i_ += 4;
                    if (v >= 0x80) fail("test reader handles only ASCII \\u escapes");
                    out.push_back(static_cast<char>(v));
                    break;
                }
                default: fail("bad escape");
            }
        }
    }
    std::string_view s_;
    size_t i_ = 0;
};

TEST(CatalogJson, QuoteEscapes) {
    EXPECT_EQ(json_quote("plain"), "\"plain\"");
    EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_quote("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
    EXPECT_EQ(json_quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
    EXPECT_EQ(json_quote(std::string("\0", 1)), "\"\\u0000\"");
    EXPECT_EQ(json_quote("Agora\xE2\x80\x99s"), "\"Agora\xE2\x80\x99s\"");  // UTF-8 passes through
}

TEST(CatalogJson, ListingIsAnArrayOfEntriesAsDesignSays) {
    const Catalog& c = callwall::test::full_bundled_catalog();
    const Json root = JsonReader(render_json(c)).parse();
    ASSERT_TRUE(root.is_array());
    ASSERT_EQ(root.arr().size(), c.entries().size() + c.products().size());
    size_t unsupported = 0;
    for (const Json& e : root.arr()) {
        ASSERT_TRUE(e.is_object());
        const JsonObject& o = e.obj();
        for (const char* key : {"id", "vendor", "product", "service", "transport", "ports", "destinations", "required",
                                "conditions", "source", "allowlist_supported"}) {
            ASSERT_TRUE(o.count(key)) << key;
        }
        ASSERT_TRUE(o.at("source").is_object());
        // A seed file or a web page: never an empty string for "none".
        const JsonObject& src = o.at("source").obj();
        EXPECT_TRUE(src.at("section").is_string());
        EXPECT_NE(src.at("file").is_null(), src.at("url").is_null()) << o.at("id").str();
        if (src.at("file").is_string()) {
            EXPECT_FALSE(src.at("file").str().empty());
        }
        if (src.at("url").is_string()) {
            EXPECT_TRUE(src.at("url").str().starts_with("https://"));
        }
        EXPECT_TRUE(o.at("conditions").is_object());
        if (!std::get<bool>(o.at("allowlist_supported").v)) {
            ++unsupported;
            EXPECT_TRUE(o.at("transport").is_null());
            EXPECT_TRUE(o.at("ports").arr().empty());
            EXPECT_TRUE(o.at("advice").is_string());
            continue;
        }
        const std::string t = o.at("transport").str();
        EXPECT_TRUE(t == "tcp" || t == "udp");
        EXPECT_TRUE(o.at("required").is_bool());
        ASSERT_FALSE(o.at("ports").arr().empty());
        for (const Json& p : o.at("ports").arr()) {
            ASSERT_EQ(p.arr().size(), 2u);
            EXPECT_LE(std::get<double>(p.arr()[0].v), std::get<double>(p.arr()[1].v));
        }
        for (const Json& d : o.at("destinations").arr()) EXPECT_TRUE(d.is_string());
        const Entry* entry = c.find_entry(o.at("id").str());
        ASSERT_NE(entry, nullptr);
        EXPECT_EQ(o.at("ports").arr().size(), entry->ports.size());
    }
    EXPECT_EQ(unsupported, 6u);  // Agora 2020's three and the current Agora page's three

    // Conditions are structured.
    for (const Json& e : root.arr()) {
        const JsonObject& o = e.obj();
        if (o.at("id").str() == "agora-2020.rtc-web.udp-v2.9") {
            const JsonObject& sdk = o.at("conditions").obj().at("sdk_version").obj();
            EXPECT_EQ(sdk.at("text").str(), "2.9.0 or later");
            EXPECT_EQ(sdk.at("min").str(), "2.9.0");
            EXPECT_TRUE(sdk.at("below").is_null());
        }
        if (o.at("id").str() == "agora-2018.recording.udp-downstream") {
            const JsonObject& lc = o.at("conditions").obj().at("local_config").obj();
            EXPECT_EQ(lc.at("key").str(), "lowUdpPort..highUdpPort");
            EXPECT_EQ(lc.at("recommended").arr().size(), 2u);
            EXPECT_EQ(o.at("direction").str(), "inbound");
        }
        if (o.at("id").str() == "sendbird-calls.media-direct-call.udp") {
            EXPECT_EQ(o.at("conditions").obj().at("feature").str(), "Direct Call");
        }
    }
}

TEST(CatalogJson, HostileTextStaysValidJson) {
    const std::string text =
        "schema = 1\n[document]\nvendor = \"V \\\"quoted\\\" \\\\ back\"\nsources = [\"s.txt\"]\n[[entry]]\n"
        "id = \"e\"\nproduct = \"P \\u00ab&\\u00bb\"\nservice = \"</script>\"\ntransport = \"tcp\"\nports = [1]\n"
        "destinations = [\"ANY\"]\nrequired = true\nnotes = \"caf\\u00e9\"\n"
        "source = { file = \"s.txt\", section = \"A > B\" }\n";
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok()) << r.diagnostics.front().to_string();
    const Json root = JsonReader(render_json(*r.catalog)).parse();
    const JsonObject& o = root.arr().at(0).obj();
    EXPECT_EQ(o.at("vendor").str(), "V \"quoted\" \\ back");
    EXPECT_EQ(o.at("product").str(), "P \xC2\xAB&\xC2\xBB");
    EXPECT_EQ(o.at("notes").str(), "caf\xC3\xA9");
    EXPECT_EQ(o.at("destinations").arr().at(0).str(), "ANY");
    // A control character in a name never gets this far: the file is refused.
    const std::string name = "P \\u00ab&\\u00bb";
    const std::string controls = std::string(text).replace(text.find(name), name.size(), "P\\nnewline\\t\\u0001");
    EXPECT_FALSE(load_string("t.toml", controls).ok());
}

TEST(CatalogJson, SelectionFilters) {
    const Catalog& c = bundled_catalog();
    Selection sel;
    sel.vendor = "agora";
    sel.edition = "2018";
    const Json root = JsonReader(render_json(c, sel)).parse();
    EXPECT_EQ(root.arr().size(), 11u);
    for (const Json& e : root.arr()) EXPECT_EQ(e.obj().at("edition").str(), "2018");
    sel = {};
    sel.vendor = "nobody";
    EXPECT_EQ(render_json(c, sel), "[]\n");
}

TEST(CatalogText, TableNamesEverything) {
    const Catalog& c = bundled_catalog();
    const std::string text = render_text(c);
    for (const Entry& e : c.entries()) EXPECT_NE(text.find(e.id), std::string::npos) << e.id;
    for (const Product& p : c.products()) {
        EXPECT_NE(text.find("NOT ALLOW-LISTABLE: " + p.product + " [" + p.id + "]"), std::string::npos) << p.id;
    }
    EXPECT_NE(text.find("Agora, edition 2020 (document dated 2020-09-15)"), std::string::npos);
    EXPECT_NE(text.find("Agora, edition 2018 (document dated 2018-11-06)"), std::string::npos);
    EXPECT_NE(text.find("5866-6000"), std::string::npos);
    EXPECT_NE(text.find("SDK version before 2.9.0 (< 2.9.0)"), std::string::npos);
    EXPECT_NE(text.find("sha256:" + c.digest()), std::string::npos);
}

TEST(CatalogText, ShowEntryProductAndUnknown) {
    const Catalog& c = bundled_catalog();
    auto entry = render_show(c, "whereby.turn-sfu-highport.udp");
    ASSERT_TRUE(entry);
    EXPECT_NE(entry->find("001_eaeeebfdd0024e7a.txt"), std::string::npos);
    EXPECT_NE(entry->find("Firewall & Security > Whereby TURN/SFU highport"), std::string::npos);
    EXPECT_NE(entry->find("004_dbdf93de677adebf.txt"), std::string::npos);  // provenance
    EXPECT_NE(entry->find("1024-65535"), std::string::npos);
    auto product = render_show(c, "agora-2020.rtc-native");
    ASSERT_TRUE(product);
    EXPECT_NE(product->find("NOT SUPPORTED"), std::string::npos);
    EXPECT_NE(product->find("cloud proxy"), std::string::npos);
    EXPECT_FALSE(render_show(c, "no.such.id"));
}

TEST(CatalogDigest, Sha256OfFilesInLoadOrder) {
    const std::string a =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n[[product]]\nid = \"p\"\n"
        "product = \"P\"\nallowlist_supported = false\nadvice = \"x\"\n"
        "source = { file = \"s.txt\", section = \"A\" }\n";
    std::string b = a;
    b.replace(b.find("id = \"p\""), 8, "id = \"q\"");
    const std::vector<SourceText> files = {{"a.toml", a}, {"b.toml", b}};
    LoadResult r = load_sources(files);
    ASSERT_TRUE(r.ok());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const std::string both = a + b;
    ASSERT_EQ(EVP_Digest(both.data(), both.size(), md, &len, EVP_sha256(), nullptr), 1);
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        char buf[3];
        std::snprintf(buf, sizeof buf, "%02x", md[i]);
        hex += buf;
    }
    EXPECT_EQ(r.catalog->digest(), hex);
    const std::vector<SourceText> reversed = {{"b.toml", b}, {"a.toml", a}};
    EXPECT_NE(load_sources(reversed).catalog->digest(), hex);
    EXPECT_EQ(bundled_catalog().digest().size(), 64u);
}

// --- export ------------------------------------------------------------------

// Runs `nft -c -f FILE`; nullopt when nft is missing or not permitted here.
std::optional<std::pair<int, std::string>> nft_check(const std::string& ruleset) {
    const std::string dir = std::filesystem::temp_directory_path().string();
    const std::string file = dir + "/callwall_export_" + std::to_string(::getpid()) + ".nft";
    auto run = [&](const std::string& text) -> std::pair<int, std::string> {
        std::ofstream(file) << text;
        FILE* p = ::popen(("nft -c -f " + file + " 2>&1").c_str(), "r");
        if (!p) return {-1, ""};
        std::string out;
        char buf[4096];
        while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        const int status = ::pclose(p);
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
    };
    // A trivially valid ruleset tells "nft unusable here" apart from "our output is wrong".
    const auto probe = run("table inet callwall_probe {\n chain c {\n  tcp dport 1 accept\n }\n}\n");
    if (probe.first != 0) {
        std::filesystem::remove(file);
        return std::nullopt;
    }
    auto result = run(ruleset);
    std::filesystem::remove(file);
    return result;
}

TEST(CatalogExport, NftAcceptsTheWholeCatalog) {
    const std::string nft = render_export(bundled_catalog(), {});
    auto r = nft_check(nft);
    if (!r) GTEST_SKIP() << "nft not installed or not permitted here";
    EXPECT_EQ(r->first, 0) << r->second;
}

TEST(CatalogExport, NftAcceptsEachProductAndOtherTableNames) {
    std::set<std::pair<std::string, std::string>> products;
    // A product whose every entry goes to ANY exports no rule at all (Jitsi's server ports).
    for (const Entry& e : bundled_catalog().entries()) {
        if (!e.any_destination()) products.emplace(e.vendor, e.product);
    }
    for (const auto& [vendor, product] : products) {
        ExportOptions o;
        o.selection.vendor = vendor;
        o.selection.product = product;
        o.nft_table = "filter_test";
        const std::string nft = render_export(bundled_catalog(), o);
        EXPECT_NE(nft.find("table inet filter_test {"), std::string::npos);
        auto r = nft_check(nft);
        if (!r) GTEST_SKIP() << "nft not installed or not permitted here";
        EXPECT_EQ(r->first, 0) << product << "\n" << r->second;
    }
}

TEST(CatalogExport, OnlyTheNamedEntries) {
    for (const auto format : {ExportFormat::Nft, ExportFormat::Iptables}) {
        ExportOptions o;
        o.format = format;
        o.only_entries = {"whereby.turn.udp", "agora-2018.web.udp"};
        const std::string out = render_export(bundled_catalog(), o);
        EXPECT_NE(out.find("--entry whereby.turn.udp --entry agora-2018.web.udp"), std::string::npos) << out;
        EXPECT_NE(out.find("only the entries named by --entry; 2 entries"), std::string::npos) << out;
        size_t rules = 0;
        for (const Entry& e : bundled_catalog().entries()) {
            const bool named = e.id == "whereby.turn.udp" || e.id == "agora-2018.web.udp";
            const bool present = out.find("\"" + e.id + "\"") != std::string::npos;
            EXPECT_EQ(present, named) << e.id;
            rules += present;
        }
        EXPECT_EQ(rules, 2u);
        // Exactly what was named: no advice about other products.
        EXPECT_EQ(out.find("NOT ALLOW-LISTABLE"), std::string::npos);
        if (format == ExportFormat::Nft) {
            auto r = nft_check(out);
            if (r) {
                EXPECT_EQ(r->first, 0) << r->second;
            }
        }
    }
}

// The comment block of one entry in an export (from its "# ---- id:" line to its rule).
std::string block_of(const std::string& out, const std::string& id) {
    const size_t start = out.find("# ---- " + id + "\n");
    if (start == std::string::npos) return {};
    const size_t end = out.find("\"" + id + "\"", start);
    return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(CatalogExport, CommentsCarryNamesConditionsAndSources) {
    const Catalog& c = bundled_catalog();
    for (ExportFormat f : {ExportFormat::Nft, ExportFormat::Iptables}) {
        ExportOptions o;
        o.format = f;
        o.include_any = true;
        const std::string out = render_export(c, o);
        for (const Entry& e : c.entries()) {
            const std::string block = block_of(out, e.id);
            ASSERT_FALSE(block.empty()) << e.id;
            for (const Destination& d : e.destinations) {
                EXPECT_NE(block.find(d.kind == DestinationKind::Any ? "ANY address" : d.pattern), std::string::npos)
                    << e.id << " " << d.pattern;
            }
            EXPECT_NE(block.find(e.source.file), std::string::npos) << e.id;
        }
        EXPECT_NE(block_of(out, "agora-2020.rtc-web.udp-v2.9").find("only for SDK version 2.9.0 or later (>= 2.9.0)"),
                  std::string::npos);
        EXPECT_NE(block_of(out, "agora-2020.rtc-web.udp-pre-2.9").find("only for SDK version before 2.9.0 (< 2.9.0)"),
                  std::string::npos);
        EXPECT_NE(block_of(out, "agora-2020.rtc-web.tcp-rtmp").find("only when the feature \"RTMP converter\" is used"),
                  std::string::npos);
        EXPECT_NE(block_of(out, "sendbird-calls.media-direct-call.udp").find("\"Direct Call\""), std::string::npos);
        const std::string rec = block_of(out, "agora-2018.recording.udp-downstream");
        EXPECT_NE(rec.find("local configuration lowUdpPort..highUdpPort"), std::string::npos);
        EXPECT_NE(rec.find("inbound"), std::string::npos);
        EXPECT_NE(block_of(out, "sendbird-calls.p2p-stun.udp").find("optional"), std::string::npos);
        for (const Product& p : c.products()) EXPECT_NE(out.find("[" + p.id + "]"), std::string::npos);
        EXPECT_NE(out.find("NOT ALLOW-LISTABLE"), std::string::npos);
    }
}

TEST(CatalogExport, NftRulesAndSets) {
    ExportOptions o;
    o.selection.vendor = "Agora";
    o.selection.edition = "2020";
    o.selection.product = "rtc web sdk";
    const std::string out = render_export(bundled_catalog(), o);
    EXPECT_NE(out.find("elements = { 80, 443, 3433, 5668-5669, 5866-6000, 6080, 6443, 8667, 9667 }"),
              std::string::npos);
    EXPECT_NE(
        out.find("udp dport @callwall_ports_agora_2020_rtc_web_udp_v2_9 ip daddr @callwall_agora_v4 accept comment "
                 "\"agora-2020.rtc-web.udp-v2.9\""),
        std::string::npos);
    EXPECT_EQ(out.find("rtm-web"), std::string::npos);  // other products left out
    EXPECT_EQ(out.find("agora-2018"), std::string::npos);
    EXPECT_EQ(out.find("NOT ALLOW-LISTABLE"), std::string::npos);
}

TEST(CatalogExport, IptablesRestoreShape) {
    // 20 single ports and 3 ranges: multiport holds at most 15 slots per rule.
    std::string ports;
    for (int p = 1; p <= 20; ++p) ports += std::to_string(p * 100) + ", ";
    ports += "[3000, 3010], [4000, 4010], [5000, 5010]";
    const std::string text =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n[[entry]]\nid = \"big\"\n"
        "product = \"P\"\nservice = \"S\"\ntransport = \"udp\"\nports = [" +
        ports +
        "]\n"
        "destinations = [\".v.com\"]\nrequired = true\nsource = { file = \"s.txt\", section = \"A\" }\n";
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok());
    ExportOptions o;
    o.format = ExportFormat::Iptables;
    const std::string script = render_export(*r.catalog, o);
    // The script's iptables-restore part, between its here-document's lines.
    const size_t from = script.find("cat <<'CALLWALL_RULES'\n");
    ASSERT_NE(from, std::string::npos) << script;
    const size_t body = script.find('\n', from) + 1;
    const std::string out = script.substr(body, script.find("\nCALLWALL_RULES\n", body) + 1 - body);
    std::istringstream in(out);
    std::string line;
    std::vector<std::string> rules;
    bool saw_filter = false, saw_commit = false;
    while (std::getline(in, line)) {
        if (line == "*filter") saw_filter = true;
        if (line == "COMMIT") saw_commit = true;
        if (line.starts_with("-A ")) rules.push_back(line);
        EXPECT_TRUE(line.empty() || line[0] == '#' || line[0] == '*' || line[0] == ':' || line.starts_with("-A ") ||
                    line == "COMMIT")
            << line;
    }
    EXPECT_TRUE(saw_filter && saw_commit);
    ASSERT_EQ(rules.size(), 2u);
    size_t total_slots = 0;
    for (const std::string& rule : rules) {
        EXPECT_TRUE(rule.starts_with("-A CALLWALL-OUTBOUND -p udp -m multiport --dports ")) << rule;
        EXPECT_NE(rule.find("-m comment --comment \"big\" -j ACCEPT"), std::string::npos);
        const size_t a = rule.find("--dports ") + 9;
        const std::string list = rule.substr(a, rule.find(' ', a) - a);
        size_t slots = 1;
        for (char ch : list) slots += ch == ',' ? 1 : ch == ':' ? 1 : 0;
        EXPECT_LE(slots, 15u) << rule;
        total_slots += slots;
    }
    EXPECT_EQ(total_slots, 20u + 3u * 2u);
}

TEST(CatalogExport, EmptySelectionSaysSo) {
    ExportOptions o;
    o.selection.vendor = "nobody";
    EXPECT_NE(render_export(bundled_catalog(), o).find("no catalog entries left in the selection"), std::string::npos);
}

}  // namespace
}  // namespace callwall::catalog
