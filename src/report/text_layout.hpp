// The text report's layout: word wrapping that never cuts a token, padding to
// columns measured in characters (UTF-8 code points, as a terminal shows
// them). Private to src/report; the text reports (report.cpp, text_blocks.cpp)
// build their lines with it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace callwall::report::text {

/// The text report fits a 100-column terminal (a token longer than its
/// column excepted: it stands whole on a line of its own).
inline constexpr size_t kWidth = 100;

/// A blank that wrap() does not break at (and writes as a blank): glues
/// "ID 12" together. A control character, so never one of the report's own
/// (the terminal escaping removes those).
inline constexpr char kNoBreak = '\x1f';

/// Columns `s` takes on a terminal: its UTF-8 code points.
size_t columns(std::string_view s);

/// `s` cut into lines of at most `width` columns, at blanks only: a word, an
/// id, an address or a name is never split. A token longer than `width` is a
/// line of its own, whole. Runs of blanks (newlines too) read as one;
/// kNoBreak joins, and is written as a blank. At least one line (empty for
/// a blank `s`). Linear in the size of `s`.
std::vector<std::string> wrap(std::string_view s, size_t width);

/// `first` followed by `text` wrapped to kWidth; the continuation lines are
/// indented by `indent` blanks. Each line ends in '\n'.
std::string wrapped(const std::string& first, std::string_view text, size_t indent);

/// `s` padded with blanks to `w` columns (unchanged when it is as wide).
std::string pad(const std::string& s, size_t w);

/// A table row without the blanks after its last cell, with its '\n'.
std::string trimmed(std::string row);

/// "2026-01-01 00:00:10.236Z" (UTC, milliseconds); "-" for 0 (unknown).
std::string iso_time(double ts);

}  // namespace callwall::report::text
