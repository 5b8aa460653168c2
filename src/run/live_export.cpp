// A live run's rows of a record through a writer. See run/live_export.hpp.
#include "run/live_export.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

#include "records/attribution.hpp"
#include "store/store.hpp"
#include "util/file_head.hpp"
#include "util/split.hpp"

namespace callwall::run {
namespace {

// The first line of the file at `path` (without its newline); "" when it
// is not a regular file, is empty or cannot be read.
std::string first_line(const std::string& path) {
    std::string head = util::regular_file_head(path, 4096);
    head.resize(std::min(head.size(), head.find('\n')));
    return head;
}

// The text of a key: each value's kind and bytes, NUL between.
void append_key(const writers::Value& v, std::string& out) {
    out += static_cast<char>('0' + static_cast<int>(v.kind));
    switch (v.kind) {
        case writers::Value::Kind::Null: break;
        case writers::Value::Kind::Integer:
            out.append(reinterpret_cast<const char*>(&v.integer), sizeof v.integer);
            break;
        case writers::Value::Kind::Real: out.append(reinterpret_cast<const char*>(&v.real), sizeof v.real); break;
        case writers::Value::Kind::Text: out += v.text; break;
    }
    out += '\0';
}

}  // namespace

void read_values(const store::ReadQuery& q, int first, std::vector<writers::Value>& out) {
    out.resize(static_cast<size_t>(std::max(0, q.columns() - first)));
    for (int i = first; i < q.columns(); ++i) {
        writers::Value& v = out[static_cast<size_t>(i - first)];
        switch (q.kind(i)) {
            case store::ReadQuery::Kind::Null: v.kind = writers::Value::Kind::Null; break;
            case store::ReadQuery::Kind::Integer:
                v.kind = writers::Value::Kind::Integer;
                v.integer = q.int64(i);
                break;
            case store::ReadQuery::Kind::Real:
                v.kind = writers::Value::Kind::Real;
                v.real = q.real(i);
                break;
            case store::ReadQuery::Kind::Text:
                v.kind = writers::Value::Kind::Text;
                v.text = q.text(i);
                break;
        }
    }
}

std::string parse_export_spec(const std::string& text, ExportSpec& out) {
    const size_t a = text.find(':');
    const size_t b = a == std::string::npos ? a : text.find(':', a + 1);
    if (b == std::string::npos || b + 1 >= text.size())
        return "'" + text + "': expected RECORD:FORMAT:FILE (e.g. verdict:jsonl:verdicts.jsonl)";
    out.record = text.substr(0, a);
    out.format = text.substr(a + 1, b - a - 1);
    out.path = text.substr(b + 1);
    const std::vector<std::string> names = records::run_record_names();
    if (std::find(names.begin(), names.end(), out.record) == names.end())
        return "no record '" + out.record + "' (one of: " + util::joined(names, ", ") + ")";
    if (out.path == "-") return "'" + text + "': the live view writes to standard output; FILE may be a pipe (mkfifo)";
    if (!writers::find(out.format))
        return "no format '" + out.format + "' (one of: " + util::joined(writers::names(), ", ") + ")";
    return "";
}

LiveExports::LiveExports(const std::vector<ExportSpec>& specs) {
    exports_.reserve(specs.size());
    for (const ExportSpec& s : specs) {
        Export& e = exports_.emplace_back();
        e.spec = s;
        e.writer = writers::find(s.format);
        // A header already there is checked against the table's at the first write.
        e.head = first_line(s.path);
        e.file = std::make_unique<events::EventLog>(s.path);
        if (!e.file->ok()) e.error = e.file->error();
    }
}

LiveExports::~LiveExports() = default;

void LiveExports::watch(store::Store& store) {
    store.watch_rows([this](std::string_view table, int64_t rowid) {
        for (Export& e : exports_) {
            if (table != e.spec.record) continue;
            const std::lock_guard<std::mutex> lock(mutex_);
            e.changed.push_back(rowid);
        }
    });
}

std::string LiveExports::error() const {
    for (const Export& e : exports_)
        if (!e.error.empty()) return e.error;
    return "";
}

void LiveExports::write(store::Store& store, int64_t run_id) {
    for (Export& e : exports_) write_one(store, e, run_id);
}

void LiveExports::write_one(store::Store& store, Export& e, int64_t run_id) {
    if (!e.error.empty()) return;  // failed before: nothing more
    try {
        store::ReadDb db(store);  // after the writes queued before
        std::vector<int64_t> rowids;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            rowids.swap(e.changed);
        }
        const std::string table = "\"" + e.spec.record + "\"";
        std::string out;
        if (e.columns.empty()) {
            // The rows written before the watch began (the run's sources) are read too.
            auto before = db.prep("SELECT rowid FROM " + table + " WHERE run_id = ?");
            before.bind(1, run_id);
            while (before.row()) rowids.push_back(before.int64(0));
            auto q = db.prep("SELECT * FROM " + table + " WHERE 0");
            for (int i = 0; i < q.columns(); ++i) e.columns.push_back(q.name(i));
            auto pk = db.prep("SELECT name FROM pragma_table_info('" + e.spec.record + "') WHERE pk > 0 ORDER BY pk");
            while (pk.row()) {
                const std::string name = pk.text(0);
                const auto at = std::find(e.columns.begin(), e.columns.end(), name);
                if (name != "run_id" && at != e.columns.end())
                    e.key.push_back(static_cast<int>(at - e.columns.begin()));
            }
            std::string header;
            e.writer->begin(e.columns, header);
            if (e.head.empty()) {
                out = header;
            } else if (!header.empty() && e.head + "\n" != header) {
                e.error = e.spec.path + ": holds other columns than " + e.spec.record +
                          "'s (its first line is not this record's header)";
                return;
            }
        }
        if (run_id != e.run_id) {
            e.last.clear();
            e.run_id = run_id;
        }
        std::sort(rowids.begin(), rowids.end());
        rowids.erase(std::unique(rowids.begin(), rowids.end()), rowids.end());
        auto q = db.prep("SELECT * FROM " + table + " WHERE rowid = ? AND run_id = ?");
        std::vector<writers::Value> values;
        std::string line, key;
        for (const int64_t rowid : rowids) {
            q.reset();
            q.bind(1, rowid).bind(2, run_id);
            if (!q.row()) continue;  // another run's, or gone since
            read_values(q, 0, values);
            line.clear();
            e.writer->row(e.columns, values, line);
            key.clear();
            if (e.key.empty())
                key.append(reinterpret_cast<const char*>(&rowid), sizeof rowid);
            else
                for (const int k : e.key) append_key(values[static_cast<size_t>(k)], key);
            const uint64_t line_hash = std::hash<std::string>{}(line);
            auto [at, added] = e.last.try_emplace(std::hash<std::string>{}(key), line_hash);
            if (!added) {
                if (at->second == line_hash) continue;  // written before, unchanged
                at->second = line_hash;
            }
            out += line;
        }
        if (!out.empty()) e.file->write(out);
        if (!e.file->ok()) e.error = e.file->error();
    } catch (const store::StoreError&) {
        throw;  // the run's own database failed: the capture reports it
    } catch (const std::exception& ex) {
        e.error = e.spec.path + ": " + ex.what();
    }
}

}  // namespace callwall::run
