#include "metrics/prometheus.hpp"

#include <fmt/format.h>

#include <cassert>
#include <cmath>
#include <iterator>

namespace nhpush::metrics {
namespace {

std::string_view type_name(metric_type type) {
    switch (type) {
        case metric_type::counter:
            return "counter";
        case metric_type::gauge:
            return "gauge";
        default:
            return "histogram";
    }
}

/// Escapes `\` and newline, plus `"` when `quote` is set (label values, not help text).
void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

void append_value(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        fmt::format_to(std::back_inserter(out), "{}", value);
    }
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    append_escaped(out, value, true);
    return out;
}

std::string format_value(double value) {
    std::string out;
    append_value(out, value);
    return out;
}

void exposition_writer::family(std::string_view name, metric_type type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_escaped(out_, help, false);
    fmt::format_to(std::back_inserter(out_), "\n# TYPE {} {}\n", name, type_name(type));
}

void exposition_writer::sample(std::string_view name, std::span<const label> labels, double value) {
    write_name_and_labels(name, "", labels);
    append_value(out_, value);
    out_ += '\n';
}

void exposition_writer::sample(std::string_view name, std::span<const label> labels, std::uint64_t value) {
    write_name_and_labels(name, "", labels);
    fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void exposition_writer::histogram(std::string_view name,
                                  std::span<const label> labels,
                                  const histogram_data& data) {
    assert(data.counts.size() == data.upper_bounds.size() + 1);
    std::uint64_t cumulative = 0;
    std::string le;
    for (std::size_t i = 0; i < data.counts.size(); ++i) {
        cumulative += data.counts[i];
        le = i < data.upper_bounds.size() ? format_value(data.upper_bounds[i]) : "+Inf";
        write_name_and_labels(name, "_bucket", labels, le);
        fmt::format_to(std::back_inserter(out_), "{}\n", cumulative);
    }
    write_name_and_labels(name, "_sum", labels);
    append_value(out_, data.sum);
    out_ += '\n';
    write_name_and_labels(name, "_count", labels);
    fmt::format_to(std::back_inserter(out_), "{}\n", cumulative);
}

void exposition_writer::write_labels(std::span<const label> labels, std::string_view le) {
    if (labels.empty() && le.empty()) {
        return;
    }
    out_ += '{';
    const char* separator = "";
    for (const auto& l : labels) {
        out_ += separator;
        out_ += l.name;
        out_ += "=\"";
        append_escaped(out_, l.value, true);
        out_ += '"';
        separator = ",";
    }
    if (!le.empty()) {
        out_ += separator;
        out_ += "le=\"";
        out_ += le;
        out_ += '"';
    }
    out_ += '}';
}

void exposition_writer::write_name_and_labels(std::string_view name,
                                              std::string_view suffix,
                                              std::span<const label> labels,
                                              std::string_view le) {
    out_ += name;
    out_ += suffix;
    write_labels(labels, le);
    out_ += ' ';
}

}  // namespace nhpush::metrics
