// The HTML report's timeline: one SVG lane per requirement with evidence, a
// bar per flow from its first to its last packet (see html_parts.hpp).
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "report/html_parts.hpp"

namespace callwall::report::html {
namespace {

// Timeline geometry, in SVG user units (the picture scales to the page width).
constexpr int kSvgWidth = 1000;
constexpr int kLabelWidth = 330;  ///< left column with the requirement labels
constexpr int kPlotLeft = kLabelWidth + 10;
constexpr int kPlotRight = kSvgWidth - 15;
constexpr int kAxisHeight = 26;
constexpr int kBarHeight = 8;
constexpr int kTrackGap = 3;
constexpr int kLanePad = 5;
constexpr int kLaneMinHeight = 34;  ///< two lines of 11px label text plus padding
constexpr int kLaneLineHeight = 13;
constexpr int kLegendHeight = 26;
// A flow of a few milliseconds in a capture of minutes would be under a
// pixel wide: draw at least this much so that every flow can be seen and hovered.
constexpr double kMinBarWidth = 4.0;
constexpr size_t kLaneLabelChars = 42;  ///< a label line: fits kLabelWidth minus the verdict word at 11px

double tick_step(double span_s) {
    const double raw = span_s / 5.0;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0})
        if (raw <= m * p) return m * p;
    return 10.0 * p;
}

std::string tick_label(double s, double step) {
    if (step >= 1) return fixed(s, 0) + " s";
    if (step >= 0.1) return fixed(s, 1) + " s";
    if (step >= 0.01) return fixed(s, 2) + " s";
    return fixed(s, 3) + " s";
}

// Flows are stacked on tracks within a lane so that overlapping bars stay visible.
struct Bar {
    double x, w;
    int track;
    const EvidenceFlow* f;
};
struct Lane {
    size_t row;
    int y, h, tracks;
    std::vector<Bar> bars;
};

/// Time to x: the capture's span over the plot's width.
struct Scale {
    double t0, span, plot_w;
    [[nodiscard]] double x(double t) const {
        if (!std::isfinite(t)) t = t0;
        return kPlotLeft + (std::clamp(t, t0, t0 + span) - t0) / span * plot_w;
    }
};

/// One lane per verdict row with evidence, from y = kAxisHeight down;
/// `bottom` is where the last lane ends.
std::vector<Lane> lay_out(const ReportData& d, const std::vector<size_t>& rows, const Scale& sc, int& bottom) {
    std::vector<Lane> laid;
    int y = kAxisHeight;
    for (size_t i : rows) {
        Lane lane{i, y, 0, 0, {}};
        std::vector<double> track_end;
        for (const EvidenceFlow& f : d.verdicts[i].evidence) {
            double x = sc.x(f.first_ts);
            const double w = std::max(sc.x(std::max(f.first_ts, f.last_ts)) - x, kMinBarWidth);
            x = std::max<double>(kPlotLeft, std::min(x, kPlotRight - w));  // a late short flow stays inside
            int track = -1;
            for (size_t t = 0; t < track_end.size(); ++t)
                if (track_end[t] <= x) {
                    track = static_cast<int>(t);
                    break;
                }
            if (track < 0) {
                track = static_cast<int>(track_end.size());
                track_end.push_back(0);
            }
            track_end[static_cast<size_t>(track)] = x + w + 2;
            lane.bars.push_back(Bar{x, w, track, &f});
        }
        lane.tracks = static_cast<int>(track_end.size());
        lane.h = std::max(kLaneMinHeight, 2 * kLanePad + lane.tracks * kBarHeight + (lane.tracks - 1) * kTrackGap);
        y += lane.h;
        laid.push_back(std::move(lane));
    }
    bottom = y;
    return laid;
}

using LabelLines = std::pair<std::string, std::string>;

LabelLines displayed(const LabelLines& l) {
    return {clip_words(l.first, kLaneLabelChars), clip_words(l.second, kLaneLabelChars)};
}

/// Lane labels on two lines, what then whose: "product · service" over
/// "vendor edition · transport ports". Each line loses its middle, not its
/// end, when too long; lanes that still read the same get their entry id.
std::vector<LabelLines> lane_labels(const ReportData& d, const std::vector<Lane>& laid) {
    std::vector<LabelLines> label_lines;
    for (const Lane& l : laid) {
        const VerdictRow& v = d.verdicts[l.row];
        std::string second = v.vendor + (v.edition.empty() ? "" : " " + v.edition);
        if (!v.transport.empty() || !v.ports.empty())
            second += " \u00b7 " + v.transport + (v.ports.empty() ? "" : " " + v.ports);
        label_lines.emplace_back(v.product + " \u00b7 " + v.service, second);
    }
    for (size_t k = 0; k < laid.size(); ++k)
        for (size_t j = 0; j < laid.size(); ++j)
            if (j != k && displayed(label_lines[j]) == displayed(label_lines[k])) {
                for (size_t m : {j, k})
                    if (label_lines[m].second.find(d.verdicts[laid[m].row].entry_id) == std::string::npos)
                        label_lines[m].second += " \u00b7 " + d.verdicts[laid[m].row].entry_id;
            }
    return label_lines;
}

/// Lane backgrounds, labels, verdict words and "+N more" links.
void write_lanes(std::string& o, const ReportData& d, const std::vector<Lane>& laid,
                 const std::vector<LabelLines>& label_lines) {
    for (size_t k = 0; k < laid.size(); ++k) {
        const Lane& l = laid[k];
        const VerdictRow& v = d.verdicts[l.row];
        if (k % 2 == 1)
            o += "<rect class=\"lane-alt\" x=\"0\" y=\"" + std::to_string(l.y) + "\" width=\"" +
                 std::to_string(kSvgWidth) + "\" height=\"" + std::to_string(l.h) + "\"/>\n";
        const Badge b = verdict_badge(v.verdict, d.run.kind == "audit");
        const std::string label =
            requirement_label(v) + (v.edition.empty() ? "" : ", edition " + v.edition) + " [" + v.entry_id + "]";
        const auto [line1, line2] = displayed(label_lines[k]);
        const int text_y = l.y + l.h / 2 - 2;  // baseline of the first line
        // data-full: the lines before clipping (the browser test checks that
        // a clipped line shows whole words of them).
        o += "<a href=\"#r" + std::to_string(l.row) + "\"><text x=\"6\" y=\"" + std::to_string(text_y) +
             "\" data-full1=\"" + esc(label_lines[k].first) + "\" data-full2=\"" + esc(label_lines[k].second) +
             "\"><title>" + esc(label) + " \u2014 " + esc(b.label) + "</title>" + esc(line1) +
             "<tspan class=\"lane-whose\" x=\"6\" dy=\"" + std::to_string(kLaneLineHeight) + "\">" + esc(line2) +
             "</tspan></text></a>";
        o += std::string("<text class=\"lane-verdict lv-") + b.css + "\" x=\"" + std::to_string(kPlotLeft - 6) +
             "\" y=\"" + std::to_string(text_y) + "\" text-anchor=\"end\">" + esc(b.label) + "</text>\n";
        // The lane draws only the flows the report loaded: say how many more there are.
        const uint64_t more = flows_not_shown(v);
        if (more > 0)
            o += "<a href=\"#e" + std::to_string(l.row) + "\"><text class=\"lane-more\" x=\"" +
                 std::to_string(kPlotLeft - 6) + "\" y=\"" + std::to_string(text_y + kLaneLineHeight) +
                 "\" text-anchor=\"end\"><title>" + std::to_string(v.evidence.size()) + " of " +
                 std::to_string(flows_counted(v)) + " flows drawn; the others are counted in the verdict row</title>+" +
                 grouped(more) + " more</text></a>\n";
    }
}

/// The time axis with its ticks, and the line at the end of the capture.
void write_axis(std::string& o, const Scale& sc, int plot_bottom) {
    o += "<line class=\"axis\" x1=\"" + std::to_string(kPlotLeft) + "\" y1=\"" + std::to_string(kAxisHeight) +
         "\" x2=\"" + std::to_string(kPlotRight) + "\" y2=\"" + std::to_string(kAxisHeight) + "\"/>\n";
    const double step = tick_step(sc.span);
    for (int k = 0; k <= 20; ++k) {
        const double s = k * step;
        if (s > sc.span * (1 + 1e-9)) break;
        const std::string x = fixed(kPlotLeft + s / sc.span * sc.plot_w, 1);
        o += "<line class=\"tick\" x1=\"" + x + "\" y1=\"" + std::to_string(kAxisHeight - 4) + "\" x2=\"" + x +
             "\" y2=\"" + std::to_string(plot_bottom) + "\"/>";
        o += "<text class=\"ticklabel\" x=\"" + x + "\" y=\"" + std::to_string(kAxisHeight - 8) + "\" text-anchor=\"" +
             (k == 0 ? "start" : "middle") + "\">" + esc(tick_label(s, step)) + "</text>\n";
    }
    // The end of the capture: attempts close to it had no time to be answered.
    o += "<line class=\"capture-end\" x1=\"" + std::to_string(kPlotRight) + "\" y1=\"" + std::to_string(kAxisHeight) +
         "\" x2=\"" + std::to_string(kPlotRight) + "\" y2=\"" + std::to_string(plot_bottom) + "\"/>\n";
}

void write_bars(std::string& o, const std::vector<Lane>& laid, double t0) {
    for (const Lane& l : laid)
        for (const Bar& b : l.bars) {
            const Badge ob = outcome_badge(b.f->outcome);
            const int stack_h = l.tracks * kBarHeight + (l.tracks - 1) * kTrackGap;
            const int by = l.y + (l.h - stack_h) / 2 + b.track * (kBarHeight + kTrackGap);
            o += std::string("<rect class=\"flow-bar o-") + ob.css + "\" x=\"" + fixed(b.x, 1) + "\" y=\"" +
                 std::to_string(by) + "\" width=\"" + fixed(b.w, 1) + "\" height=\"" + std::to_string(kBarHeight) +
                 "\" rx=\"1.5\"><title>flow " + std::to_string(b.f->id) + ": " + esc(five_tuple(*b.f)) + " \u2014 " +
                 esc(ob.label) + (b.f->name.empty() ? "" : " \u2014 " + esc(b.f->name)) + " (" +
                 esc(seconds_text(b.f->first_ts - t0)) + " \u2026 " + esc(seconds_text(b.f->last_ts - t0)) +
                 ")</title></rect>\n";
        }
}

/// The legend: the same shapes as the bars, with words.
void write_legend(std::string& o, int plot_bottom) {
    const int ly = plot_bottom + 8;
    int lx = 6;
    for (const char* outcome : {"observed", "blocked", "abandoned", "inconclusive"}) {
        const Badge ob = outcome_badge(outcome);
        o += std::string("<rect class=\"legend-swatch o-") + ob.css + "\" x=\"" + std::to_string(lx) + "\" y=\"" +
             std::to_string(ly) + "\" width=\"22\" height=\"" + std::to_string(kBarHeight + 2) + "\"/>";
        o += "<text x=\"" + std::to_string(lx + 28) + "\" y=\"" + std::to_string(ly + 9) + "\">flow " + esc(ob.label) +
             "</text>\n";
        lx += 150;
    }
    o += "<line class=\"capture-end\" x1=\"" + std::to_string(lx + 10) + "\" y1=\"" + std::to_string(ly - 1) +
         "\" x2=\"" + std::to_string(lx + 10) + "\" y2=\"" + std::to_string(ly + kBarHeight + 3) + "\"/><text x=\"" +
         std::to_string(lx + 18) + "\" y=\"" + std::to_string(ly + 9) + "\">end of capture</text>\n";
}

}  // namespace

/// The time the timeline spans: the capture, widened to any evidence flow
/// outside it (a killed run may lack first_ts/last_ts). {0, 0} when unknown.
std::pair<double, double> time_range(const ReportData& d) {
    double t0 = d.run.first_ts, t1 = d.run.last_ts;
    bool have_range = std::isfinite(t0) && std::isfinite(t1) && t0 > 0 && t1 >= t0;
    for (const VerdictRow& v : d.verdicts)
        for (const EvidenceFlow& f : v.evidence) {
            if (!std::isfinite(f.first_ts) || !std::isfinite(f.last_ts) || f.first_ts <= 0) continue;
            if (!have_range) {
                t0 = f.first_ts;
                t1 = std::max(f.first_ts, f.last_ts);
                have_range = true;
            }
            t0 = std::min(t0, f.first_ts);
            t1 = std::max(t1, f.last_ts);
        }
    if (!have_range) return {0, 0};
    return {t0, t1};
}

void write_timeline(std::string& o, const ReportData& d) {
    o += "<h2 id=\"timeline\">Timeline of the evidence</h2>\n";
    std::vector<size_t> rows;
    for (size_t i = 0; i < d.verdicts.size(); ++i)
        if (!d.verdicts[i].evidence.empty()) rows.push_back(i);
    if (rows.empty()) {
        o += "<p class=\"muted\">No evidence flows to draw.</p>\n";
        return;
    }
    const std::pair<double, double> range = time_range(d);
    const Scale sc{range.first, std::max(range.second - range.first, 0.01), double{kPlotRight - kPlotLeft}};
    int plot_bottom = 0;
    const std::vector<Lane> laid = lay_out(d, rows, sc, plot_bottom);
    const int height = plot_bottom + kLegendHeight;

    o += "<p class=\"small muted\">One lane per requirement with evidence; each bar is one flow from its first to "
         "its last packet (at least " +
         fixed(kMinBarWidth, 0) +
         " units wide so short attempts show). Time in "
         "seconds from " +
         esc(iso_utc(sc.t0)) + ". Hover a bar for its flow.</p>\n";
    o += "<div class=\"scroll\"><svg class=\"timeline\" viewBox=\"0 0 " + std::to_string(kSvgWidth) + " " +
         std::to_string(height) + "\" role=\"img\" aria-label=\"Timeline of the evidence flows per requirement\">\n";
    write_lanes(o, d, laid, lane_labels(d, laid));
    write_axis(o, sc, plot_bottom);
    write_bars(o, laid, sc.t0);
    write_legend(o, plot_bottom);
    o += "</svg></div>\n";
}

}  // namespace callwall::report::html
