// Catalog loader: TOML (toml++) → validated Entry/Product/Document values →
// immutable indexes. Every problem becomes a Diagnostic with file:line:column
// and what was expected; loading goes on after an error so that one run lists
// them all. Schema: catalog/README.md.
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>
#include <toml++/toml.h>

#include "catalog/catalog.hpp"
#include "catalog/loader_parts.hpp"
#include "util/thread_without_signals.hpp"

namespace callwall::catalog {

using namespace loader_detail;

namespace {

std::string sha256_hex(const std::vector<SourceText>& sources) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
    for (const SourceText& s : sources) {
        ok = ok && EVP_DigestUpdate(ctx, s.text.data(), s.text.size()) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) throw std::runtime_error("SHA-256 failed (OpenSSL)");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(kHex[md[i] >> 4]);
        out.push_back(kHex[md[i] & 0xf]);
    }
    return out;
}

std::string base_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

struct FileParse {
    ParsedFile parsed;
    std::vector<Diagnostic> diags;
};

// Every file parsed, and the sources' digest. A file's parse depends on no
// other file's, so with several files a second thread takes the digest and
// then files as this one does, each file's result and diagnostics kept in
// its own place and joined in the files' order: the catalog and its
// messages are what one thread makes. (Loading is serial work before the
// first packet is read: the bundled catalog's 20 files cost a run ~10 ms on
// one thread.)
std::vector<ParsedFile> parse_files(const std::vector<SourceText>& sources, std::vector<Diagnostic>& diags,
                                    std::string& digest) {
    std::vector<FileParse> files(sources.size());
    std::atomic<size_t> next{0};
    const auto take = [&] {
        for (size_t i = next.fetch_add(1); i < sources.size(); i = next.fetch_add(1)) {
            FileParser fp(sources[i].name, files[i].diags);
            files[i].parsed = fp.parse(sources[i].text);
        }
    };
    std::exception_ptr helper_failed;
    std::thread helper;
    if (sources.size() > 1) {
        try {
            helper = util::thread_without_signals("callwall-cat", [&] {
                try {
                    digest = sha256_hex(sources);
                    take();
                } catch (...) {
                    helper_failed = std::current_exception();
                }
            });
        } catch (const std::system_error&) {
            // No thread to be had: this one parses every file.
        }
    }
    try {
        take();
    } catch (...) {
        if (helper.joinable()) helper.join();
        throw;
    }
    if (helper.joinable()) {
        helper.join();
        if (helper_failed) std::rethrow_exception(helper_failed);
    } else {
        digest = sha256_hex(sources);
    }
    std::vector<ParsedFile> parsed;
    parsed.reserve(files.size());
    for (FileParse& f : files) {
        parsed.push_back(std::move(f.parsed));
        diags.insert(diags.end(), std::make_move_iterator(f.diags.begin()), std::make_move_iterator(f.diags.end()));
    }
    return parsed;
}

}  // namespace

class CatalogBuilder {
public:
    static LoadResult build(std::vector<SourceText> sources, std::vector<Diagnostic> diags);

private:
    static void check_ids(const std::vector<ParsedFile>& parsed, std::vector<Diagnostic>& diags);
    static void check_fallback_chains(const std::vector<ParsedFile>& parsed, std::vector<Diagnostic>& diags);
    static void sort_diagnostics(const std::vector<SourceText>& sources, std::vector<Diagnostic>& diags);
    static void take(std::vector<ParsedFile>& parsed, Catalog& cat);
    static void build_indexes(Catalog& cat);
    static Catalog::PortHintIndex port_hint_index(const std::vector<Entry>& entries,
                                                  const std::vector<uint32_t>& hints);
};

LoadResult CatalogBuilder::build(std::vector<SourceText> sources, std::vector<Diagnostic> diags) {
    LoadResult result;
    Catalog cat;
    std::string digest;
    std::vector<ParsedFile> parsed = parse_files(sources, diags, digest);
    for (const SourceText& s : sources) cat.files_.push_back(LoadedFile{s.name, base_name(s.name)});
    check_ids(parsed, diags);
    check_fallback_chains(parsed, diags);
    if (!diags.empty()) {
        sort_diagnostics(sources, diags);
        result.diagnostics = std::move(diags);
        return result;
    }
    take(parsed, cat);
    build_indexes(cat);
    cat.digest_ = std::move(digest);
    result.catalog = std::move(cat);
    return result;
}

// Ids are unique across files (entries and products share one namespace).
// A clash between a user's file and a bundled one is the user's to fix: it
// is reported in the user's file, whichever loaded first.
void CatalogBuilder::check_ids(const std::vector<ParsedFile>& parsed, std::vector<Diagnostic>& diags) {
    const std::string bundled_prefix = (bundled_catalog_dir() / "").string();
    const auto bundled = [&](const std::string& file) { return file.rfind(bundled_prefix, 0) == 0; };
    std::map<std::string, Location, std::less<>> seen;
    auto check_id = [&](const std::string& id, const Location& at) {
        auto [it, inserted] = seen.emplace(id, at);
        if (inserted) return;
        Location here = at, other = it->second;
        if (bundled(here.file) && !bundled(other.file)) std::swap(here, other);
        const std::string there = other.file + ":" + std::to_string(other.line) + ":" + std::to_string(other.column);
        diags.push_back(Diagnostic{
            here.file, here.line, here.column,
            bundled(other.file) && !bundled(here.file)
                ? "duplicate id " + quote(id) + "; the bundled catalog defines it at " + there +
                      ", expected ids to be unique (choose another id, or give your file the bundled file's "
                      "name to replace it)"
                : "duplicate id " + quote(id) + "; first defined at " + there + ", expected ids to be unique"});
    };
    for (const ParsedFile& pf : parsed) {
        for (const Product& p : pf.products) check_id(p.id, p.defined_at);
        for (const Entry& e : pf.entries) check_id(e.id, e.defined_at);
    }
}

// A fallback chain is one vendor's, each order once in it.
void CatalogBuilder::check_fallback_chains(const std::vector<ParsedFile>& parsed, std::vector<Diagnostic>& diags) {
    std::map<std::pair<std::string, uint32_t>, const Entry*> chain_steps;
    std::map<std::string, const Entry*> chain_owner;
    for (const ParsedFile& pf : parsed) {
        for (const Entry& e : pf.entries) {
            if (!e.fallback) continue;
            const auto at = [](const Entry& x) {
                return x.defined_at.file + ":" + std::to_string(x.defined_at.line) + ":" +
                       std::to_string(x.defined_at.column);
            };
            auto [owner, fresh] = chain_owner.emplace(e.fallback->chain, &e);
            if (!fresh && owner->second->vendor != e.vendor) {
                diags.push_back(Diagnostic{e.defined_at.file, e.defined_at.line, e.defined_at.column,
                                           "fallback chain " + quote(e.fallback->chain) + " belongs to vendor " +
                                               quote(owner->second->vendor) + " (" + at(*owner->second) +
                                               "); expected a chain name of this vendor's own"});
                continue;
            }
            auto [step, inserted] = chain_steps.emplace(std::pair{e.fallback->chain, e.fallback->order}, &e);
            if (!inserted) {
                diags.push_back(Diagnostic{e.defined_at.file, e.defined_at.line, e.defined_at.column,
                                           "fallback chain " + quote(e.fallback->chain) + " has order " +
                                               std::to_string(e.fallback->order) + " twice (also " +
                                               quote(step->second->id) + " at " + at(*step->second) +
                                               "); expected each step's order once"});
            }
        }
    }
}

// The diagnostics in the order of the files given, then by line and column.
void CatalogBuilder::sort_diagnostics(const std::vector<SourceText>& sources, std::vector<Diagnostic>& diags) {
    std::map<std::string, size_t> order;
    for (size_t i = 0; i < sources.size(); ++i) order.emplace(sources[i].name, i + 1);
    auto rank = [&](const Diagnostic& d) {
        auto it = order.find(d.file);
        return it == order.end() ? size_t{0} : it->second;
    };
    std::stable_sort(diags.begin(), diags.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        const size_t ra = rank(a), rb = rank(b);
        if (ra != rb) return ra < rb;
        if (a.line != b.line) return a.line < b.line;
        return a.column < b.column;
    });
}

// The parsed files' documents, products and entries, moved into the catalog.
void CatalogBuilder::take(std::vector<ParsedFile>& parsed, Catalog& cat) {
    for (ParsedFile& pf : parsed) {
        const auto doc_index = static_cast<uint32_t>(cat.documents_.size());
        cat.documents_.push_back(std::move(pf.document));
        for (Product& p : pf.products) {
            p.document = doc_index;
            cat.products_.push_back(std::move(p));
        }
        for (Entry& e : pf.entries) {
            e.document = doc_index;
            e.port_set = PortSet(e.ports);
            cat.entries_.push_back(std::move(e));
        }
    }
}

// The vendors, each vendor's judging edition, and the lookups by id, name
// and address.
void CatalogBuilder::build_indexes(Catalog& cat) {
    for (const Document& d : cat.documents_) cat.vendors_.push_back(d.vendor);
    std::sort(cat.vendors_.begin(), cat.vendors_.end());
    cat.vendors_.erase(std::unique(cat.vendors_.begin(), cat.vendors_.end()), cat.vendors_.end());
    auto vidx = [&](const std::string& v) {
        return static_cast<uint16_t>(std::lower_bound(cat.vendors_.begin(), cat.vendors_.end(), v) -
                                     cat.vendors_.begin());
    };
    // Each vendor's newest edition judges it (edition_rank; the first
    // loaded of equal ranks).
    cat.judging_document_.assign(cat.vendors_.size(), UINT32_MAX);
    for (uint32_t i = 0; i < cat.documents_.size(); ++i) {
        uint32_t& j = cat.judging_document_[vidx(cat.documents_[i].vendor)];
        if (j == UINT32_MAX || edition_rank(cat.documents_[j]) < edition_rank(cat.documents_[i])) j = i;
    }
    cat.vendor_prefers_udp_.assign(cat.vendors_.size(), 0);
    for (const Document& d : cat.documents_) {
        if (d.prefers && d.prefers->preferred == Transport::Udp) cat.vendor_prefers_udp_[vidx(d.vendor)] = 1;
    }
    for (size_t i = 0; i < cat.products_.size(); ++i) {
        cat.products_[i].vendor_index = vidx(cat.products_[i].vendor);
        cat.product_ids_.emplace_back(cat.products_[i].id, static_cast<uint32_t>(i));
    }
    std::array<std::vector<uint32_t>, 2> hints;  // the port-hint entries by Transport, ascending
    for (size_t i = 0; i < cat.entries_.size(); ++i) {
        Entry& e = cat.entries_[i];
        const auto idx = static_cast<uint32_t>(i);
        e.vendor_index = vidx(e.vendor);
        cat.entry_ids_.emplace_back(e.id, idx);
        if (!e.third_party && !e.any_destination()) hints[static_cast<size_t>(e.transport)].push_back(idx);
        for (const AddressRange& r : e.addresses) {
            cat.address_index_.push_back(Catalog::AddressItem{r.family, r.lo, r.hi, r.hi, idx});
        }
        for (const Destination& d : e.destinations) {
            if (d.kind == DestinationKind::Any) {
                cat.any_entries_[static_cast<size_t>(e.transport)].push_back(idx);
                continue;
            }
            cat.entry_index_.add(d.kind, d.base(), idx);
            // A shared name (general web use) shows no vendor in use.
            if (!e.third_party && !d.shared) cat.vendor_index_.add(d.kind, d.base(), e.vendor_index);
        }
    }
    std::sort(cat.address_index_.begin(), cat.address_index_.end(),
              [](const Catalog::AddressItem& a, const Catalog::AddressItem& b) {
                  if (a.family != b.family) return a.family < b.family;
                  if (a.lo != b.lo) return a.lo < b.lo;
                  return a.entry < b.entry;
              });
    for (size_t i = 1; i < cat.address_index_.size(); ++i) {
        Catalog::AddressItem& x = cat.address_index_[i];
        const Catalog::AddressItem& prev = cat.address_index_[i - 1];
        if (prev.family == x.family && x.max_hi < prev.max_hi) x.max_hi = prev.max_hi;
    }
    for (size_t t = 0; t < hints.size(); ++t) cat.port_hints_[t] = port_hint_index(cat.entries_, hints[t]);
    cat.entry_index_.freeze();
    cat.vendor_index_.freeze();
    std::sort(cat.entry_ids_.begin(), cat.entry_ids_.end());
    std::sort(cat.product_ids_.begin(), cat.product_ids_.end());
}

// `hints` (ascending) by port: cut where an interval starts or ends, then
// each entry placed in the segments its intervals cover, counted first so
// that one array holds every segment's list.
Catalog::PortHintIndex CatalogBuilder::port_hint_index(const std::vector<Entry>& entries,
                                                       const std::vector<uint32_t>& hints) {
    Catalog::PortHintIndex x;
    if (hints.empty()) return x;
    x.starts.push_back(0);
    for (uint32_t idx : hints)
        for (const PortRange& r : entries[idx].port_set.intervals()) {
            x.starts.push_back(r.lo);
            x.starts.push_back(uint32_t{r.hi} + 1);  // 65536 past the last port: no segment starts there
        }
    std::sort(x.starts.begin(), x.starts.end());
    x.starts.erase(std::unique(x.starts.begin(), x.starts.end()), x.starts.end());
    if (x.starts.back() > 0xffff) x.starts.pop_back();
    const auto segment = [&](uint32_t port) {
        return static_cast<size_t>(std::lower_bound(x.starts.begin(), x.starts.end(), port) - x.starts.begin());
    };
    // Segments [segment(lo), segment(hi + 1)) make up an interval: its bounds are cuts.
    const auto each_segment = [&](const auto& fn) {
        for (uint32_t idx : hints)
            for (const PortRange& r : entries[idx].port_set.intervals())
                for (size_t i = segment(r.lo), end = segment(uint32_t{r.hi} + 1); i < end; ++i) fn(i, idx);
    };
    x.offsets.assign(x.starts.size() + 1, 0);
    each_segment([&](size_t i, uint32_t) { ++x.offsets[i + 1]; });
    for (size_t i = 1; i < x.offsets.size(); ++i) x.offsets[i] += x.offsets[i - 1];
    x.entries.resize(x.offsets.back());
    std::vector<uint32_t> filled(x.offsets.begin(), x.offsets.end() - 1);
    each_segment([&](size_t i, uint32_t idx) { x.entries[filled[i]++] = idx; });
    return x;
}

LoadResult load_sources(std::span<const SourceText> sources) {
    return CatalogBuilder::build(std::vector<SourceText>(sources.begin(), sources.end()), {});
}

LoadResult load_string(std::string_view name, std::string_view text) {
    std::vector<SourceText> v{SourceText{std::string(name), std::string(text)}};
    return CatalogBuilder::build(std::move(v), {});
}

LoadResult load(std::span<const std::filesystem::path> paths) {
    namespace fs = std::filesystem;
    std::vector<Diagnostic> diags;
    std::map<std::string, fs::path> by_name;  // file name → path; later paths replace earlier ones
    for (const fs::path& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            size_t found = 0;
            fs::directory_iterator it(p, ec);
            if (ec) {
                diags.push_back(Diagnostic{p.string(), 0, 0, "cannot read directory: " + ec.message()});
                continue;
            }
            for (const fs::directory_entry& de : it) {
                std::error_code ec2;
                if (de.path().extension() == ".toml" && de.is_regular_file(ec2)) {
                    by_name[de.path().filename().string()] = de.path();
                    ++found;
                }
            }
            if (found == 0) {
                diags.push_back(
                    Diagnostic{p.string(), 0, 0, "no *.toml files in this directory; expected catalog files"});
            }
        } else if (fs::is_regular_file(p, ec)) {
            by_name[p.filename().string()] = p;
        } else if (p == bundled_catalog_dir()) {
            diags.push_back(Diagnostic{p.string(), 0, 0, bundled_not_found_message()});
        } else if (fs::exists(p, ec)) {
            diags.push_back(Diagnostic{p.string(), 0, 0,
                                       "not a regular file or directory (a FIFO, socket or device); expected a "
                                       "catalog directory or .toml file"});
        } else {
            diags.push_back(
                Diagnostic{p.string(), 0, 0, "no such file or directory; expected a catalog directory or .toml file"});
        }
    }
    std::vector<SourceText> sources;
    for (const auto& [name, path] : by_name) {
        std::error_code size_ec;
        if (const auto size = fs::file_size(path, size_ec); !size_ec && size > kMaxFileBytes) {
            diags.push_back(Diagnostic{path.string(), 0, 0,
                                       "the file is " + std::to_string(size) + " bytes; a catalog file holds at most " +
                                           std::to_string(kMaxFileBytes) + " (split it into several files)"});
            continue;
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            diags.push_back(Diagnostic{path.string(), 0, 0, "cannot open file for reading"});
            continue;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        sources.push_back(SourceText{path.string(), ss.str()});
    }
    return CatalogBuilder::build(std::move(sources), std::move(diags));
}

std::vector<std::filesystem::path> bundled_catalog_candidates() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("CALLWALL_CATALOG_DIR"); env && *env) return {fs::path(env)};
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec || exe.empty()) return {};
    const fs::path exe_dir = exe.parent_path();
    return {(exe_dir / ".." / kBundledCatalogSubdir).lexically_normal(), exe_dir / kBundledCatalogSubdir};
}

std::filesystem::path bundled_catalog_dir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("CALLWALL_CATALOG_DIR"); env && *env) return env;
    const std::vector<fs::path> candidates = bundled_catalog_candidates();
    for (const fs::path& c : candidates) {
        std::error_code ec;
        if (!fs::is_directory(c, ec)) continue;
        // Resolved so that diagnostics and catalog file names read the same
        // whether the catalog was reached through the build tree's link.
        const fs::path resolved = fs::canonical(c, ec);
        return ec ? c : resolved;
    }
    return candidates.empty() ? fs::path("share/callwall/catalog") : candidates.front();
}

std::string bundled_not_found_message() {
    if (const char* env = std::getenv("CALLWALL_CATALOG_DIR"); env && *env) {
        return "no such directory: CALLWALL_CATALOG_DIR names the bundled catalog's directory";
    }
    std::string tried;
    for (const auto& c : bundled_catalog_candidates()) tried += (tried.empty() ? "" : ", ") + c.string();
    if (tried.empty()) tried = "nothing (/proc/self/exe is unreadable)";
    return "bundled catalog not found; looked in " + tried +
           " (the catalog is installed in share/callwall/catalog beside the binary's bin/; "
           "set CALLWALL_CATALOG_DIR to its directory, or give --catalog DIR with --no-bundled-catalog)";
}

}  // namespace callwall::catalog
