// `catalog list` (each file's date or list version and its age against a
// given day), `catalog list --format json` (one key set for every object)
// and `catalog show` (a second page of an edition is not given the first
// page's title).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "catalog/catalog.hpp"
#include "catalog/listing.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog {
namespace {

// A dated page, an undated page with a list version, and a seed document.
constexpr const char* kDatedPage = R"toml(schema = 2
[document]
vendor = "Dated"
title = "Network requirements"
url = "https://dated.example/fw"
date = 2026-03-16
transcribed = 2026-11-26
[[entry]]
id = "dated.media"
product = "Dated"
service = "Media"
transport = "udp"
ports = [5004]
addresses = ["192.0.2.0/24"]
required = true
[entry.source]
section = "Media"
[[entry]]
id = "dated.turn"
product = "Dated"
service = "TURN"
transport = "udp"
ports = [3478]
destinations = ["turn.dated.example"]
required = true
[entry.source]
section = "TURN servers"
url = "https://dated.example/turn-regions"
)toml";

constexpr const char* kListVersion = R"toml(schema = 2
[document]
vendor = "Listed"
edition = "2022072800"
title = "Endpoints"
url = "https://listed.example/endpoints"
undated = true
transcribed = 2026-11-26
list_version = "2022072800"
[[entry]]
id = "listed.media"
product = "Listed"
service = "Media"
transport = "udp"
ports = [3478]
addresses = ["198.51.100.0/24"]
required = true
[entry.source]
section = "ID 11"
)toml";

constexpr const char* kUndated = R"toml(schema = 2
[document]
vendor = "Undated"
title = "Firewall"
url = "https://undated.example/fw"
undated = true
transcribed = 2026-11-26
[[entry]]
id = "undated.web"
product = "Undated"
service = "Web"
transport = "tcp"
ports = [443]
destinations = ["*.undated.example"]
required = true
[entry.source]
section = "Web"
)toml";

Catalog three_documents() {
    const std::vector<SourceText> files{
        {"dated.toml", kDatedPage}, {"listed.toml", kListVersion}, {"undated.toml", kUndated}};
    LoadResult r = load_sources(files);
    EXPECT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics.front().to_string());
    return r.ok() ? *r.catalog : Catalog{};
}

TEST(CatalogListAge, EachFileSaysWhatDatesItAndHowOldItIs) {
    const Catalog c = three_documents();
    const std::string text = render_text(c, {}, "2026-11-27");
    // The headings: a page's date, a list version's day, the day an undated page was transcribed.
    EXPECT_NE(text.find("== Dated (page dated 2026-03-16, 256 days old)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("== Listed, edition 2022072800 (list version 2022072800 of 2022-07-28, 1583 days old)\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("== Undated (undated page, transcribed 2026-11-26, 1 day old)\n"), std::string::npos) << text;
    // The file table at the end, one row a file.
    const size_t table = text.find("Catalog files: what dates each, and its age on 2026-11-27");
    ASSERT_NE(table, std::string::npos) << text;
    const std::string rows = text.substr(table);
    EXPECT_NE(rows.find("CATALOG FILE"), std::string::npos);
    for (const char* row : {"dated.toml", "listed.toml", "undated.toml", "256 days old", "1583 days old"})
        EXPECT_NE(rows.find(row), std::string::npos) << row << "\n" << rows;
    // Without a day, no ages (and nothing else changes).
    const std::string plain = render_text(c);
    EXPECT_NE(plain.find("== Dated (page dated 2026-03-16)\n"), std::string::npos) << plain;
    EXPECT_EQ(plain.find("days old"), std::string::npos);
    // A date after today is said, not counted backwards.
    EXPECT_NE(render_text(c, {}, "2026-03-01").find("dated after today (2026-03-01)"), std::string::npos);
}

TEST(CatalogListAge, SeedDocumentsAndTheBundledFiles) {
    const std::string text = render_text(callwall::test::bundled_catalog(), {}, "2026-11-27");
    EXPECT_NE(text.find("Agora, edition 2020 (document dated 2020-09-15, 2264 days old)"), std::string::npos) << text;
    EXPECT_NE(text.find("(undated document)"), std::string::npos);  // a seed without a date has no age
    // Every file of the full catalog has a row.
    const Catalog& full = callwall::test::full_bundled_catalog();
    const std::string all = render_text(full, {}, "2026-11-27");
    const std::string rows = all.substr(all.find("Catalog files:"));
    for (const Document& d : full.documents())
        EXPECT_NE(rows.find(std::filesystem::path(d.catalog_file).filename().string()), std::string::npos)
            << d.catalog_file;
}

TEST(CatalogJsonKeys, EveryObjectHasTheSameKeys) {
    for (const Catalog* c : {&callwall::test::full_bundled_catalog(), &callwall::test::bundled_catalog()}) {
        const nlohmann::json root = nlohmann::json::parse(render_json(*c));
        ASSERT_TRUE(root.is_array());
        ASSERT_FALSE(root.empty());
        std::set<std::string> first;
        for (const auto& [k, v] : root.front().items()) first.insert(k);
        for (const char* key : {"addresses", "source_ports", "tier", "fallback", "document", "probe_hosts", "advice"})
            EXPECT_TRUE(first.count(key)) << key;
        for (const nlohmann::json& o : root) {
            std::set<std::string> keys;
            for (const auto& [k, v] : o.items()) keys.insert(k);
            EXPECT_EQ(keys, first) << o["id"];
            std::set<std::string> doc_keys, first_doc;
            for (const auto& [k, v] : o["document"].items()) doc_keys.insert(k);
            for (const auto& [k, v] : root.front()["document"].items()) first_doc.insert(k);
            EXPECT_EQ(doc_keys, first_doc) << o["id"];
            // "None" is null, never an empty string.
            EXPECT_NE(o["source"]["file"], "") << o["id"];
            EXPECT_NE(o["source"]["url"], "") << o["id"];
            EXPECT_NE(o["document"]["url"], "") << o["id"];
        }
    }
}

TEST(CatalogJsonKeys, WebPagesGiveTheirUrlAndNoFile) {
    const Catalog c = three_documents();
    const nlohmann::json root = nlohmann::json::parse(render_json(c));
    for (const nlohmann::json& o : root) {
        EXPECT_TRUE(o["source"]["file"].is_null()) << o["id"];
        EXPECT_TRUE(o["source"]["url"].is_string()) << o["id"];
        if (o["id"] == "dated.turn") {
            EXPECT_EQ(o["source"]["url"], "https://dated.example/turn-regions");
            EXPECT_EQ(o["document"]["url"], "https://dated.example/fw");
        }
        if (o["id"] == "dated.media") {
            EXPECT_EQ(o["source"]["url"], "https://dated.example/fw");
            EXPECT_EQ(o["addresses"], nlohmann::json::array({"192.0.2.0/24"}));
            EXPECT_TRUE(o["tier"].is_null());
            EXPECT_TRUE(o["fallback"].is_null());
        }
        if (o["id"] == "listed.media") {
            EXPECT_EQ(o["document"]["list_version"], "2022072800");
        }
    }
}

TEST(CatalogShowSource, ASecondPageIsNotGivenTheFirstPagesTitle) {
    const Catalog c = three_documents();
    const auto turn = render_show(c, "dated.turn");
    ASSERT_TRUE(turn.has_value());
    EXPECT_NE(turn->find("source:         https://dated.example/turn-regions\n"
                         "                (a second page of this edition; its title and date are not recorded)\n"
                         "                the edition's page: https://dated.example/fw\n"
                         "                \"Network requirements\", dated 2026-03-16\n"),
              std::string::npos)
        << *turn;
    EXPECT_EQ(turn->find("page \"Network requirements\""), std::string::npos) << *turn;
    // The entry from the document's own page keeps its title and date.
    const auto media = render_show(c, "dated.media");
    ASSERT_TRUE(media.has_value());
    EXPECT_NE(media->find("source:         https://dated.example/fw\n"
                          "                page \"Network requirements\"\n"
                          "                page dated 2026-03-16\n"),
              std::string::npos)
        << *media;
    // And the sets its export puts the ranges in, by their exported names.
    EXPECT_NE(media->find("export sets:    callwall_net_dated_media_v4, callwall_net_dated_media_v6 (the ranges)"),
              std::string::npos)
        << *media;
}

TEST(CatalogShowSource, BundledTwilioTurnEntryNamesItsOwnPage) {
    const Catalog& c = callwall::test::full_bundled_catalog();
    const Entry* e = c.find_entry("twilio-nts.turn.udp");
    if (!e) GTEST_SKIP() << "the bundled catalog has no twilio-nts.turn.udp";
    const auto show = render_show(c, e->id);
    ASSERT_TRUE(show.has_value());
    const Document& doc = c.document_of(*e);
    if (e->source.url.empty() || e->source.url == doc.url) GTEST_SKIP() << "the entry comes from the document's page";
    EXPECT_NE(show->find("source:         " + e->source.url + "\n"), std::string::npos) << *show;
    EXPECT_EQ(show->find("page \"" + doc.title + "\""), std::string::npos) << *show;
    // Its long id's sets: the names the export writes.
    ExportOptions o;
    o.only_entries = {e->id};
    const std::string nft = render_export(c, o);
    if (!e->addresses.empty()) {
        EXPECT_NE(show->find(range_set_name(*e) + "_v4"), std::string::npos) << *show;
        EXPECT_NE(nft.find("set " + range_set_name(*e) + "_v4 {"), std::string::npos) << nft;
    }
}

}  // namespace
}  // namespace callwall::catalog
