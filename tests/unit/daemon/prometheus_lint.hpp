#pragma once
// A checker of the Prometheus text exposition format (0.0.4), line by line, for tests: what
// Prometheus's own parser would refuse, and the rules of families and histograms it relies on.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nhpush::test {

/// One parsed sample line.
struct exposition_sample {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;  ///< unescaped values, in order
    double value = 0;
};

namespace lint_detail {

inline bool metric_name_char(char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
           (!first && std::isdigit(static_cast<unsigned char>(c)));
}

inline bool label_name_char(char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           (!first && std::isdigit(static_cast<unsigned char>(c)));
}

inline std::optional<double> parse_value(std::string_view v) {
    if (v == "+Inf" || v == "Inf") {
        return HUGE_VAL;
    }
    if (v == "-Inf") {
        return -HUGE_VAL;
    }
    if (v == "NaN") {
        return std::nan("");
    }
    if (v.empty()) {
        return std::nullopt;
    }
    const std::string s(v);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) {
        return std::nullopt;
    }
    return d;
}

/// Parses `name{a="b",…} value [timestamp]`; the problem otherwise.
inline std::variant<exposition_sample, std::string> parse_sample(std::string_view line) {
    exposition_sample s;
    std::size_t i = 0;
    while (i < line.size() && metric_name_char(line[i], i == 0)) {
        ++i;
    }
    if (i == 0) {
        return std::string("bad metric name");
    }
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
        ++i;
        while (i < line.size() && line[i] != '}') {
            const auto start = i;
            while (i < line.size() && label_name_char(line[i], i == start)) {
                ++i;
            }
            if (i == start || i >= line.size() || line[i] != '=') {
                return std::string("bad label name");
            }
            std::string name(line.substr(start, i - start));
            if (++i >= line.size() || line[i] != '"') {
                return std::string("label value must be quoted");
            }
            std::string value;
            for (++i; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\') {
                    if (++i >= line.size()) {
                        return std::string("dangling escape");
                    }
                    if (line[i] == 'n') {
                        value += '\n';
                    } else if (line[i] == '\\' || line[i] == '"') {
                        value += line[i];
                    } else {
                        return std::string("bad escape in label value");
                    }
                } else {
                    value += line[i];
                }
            }
            if (i >= line.size()) {
                return std::string("unterminated label value");
            }
            ++i;
            s.labels.emplace_back(std::move(name), std::move(value));
            if (i < line.size() && line[i] == ',') {
                ++i;
            }
        }
        if (i >= line.size()) {
            return std::string("unterminated label set");
        }
        ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
        return std::string("expected a space before the value");
    }
    auto rest = line.substr(i + 1);
    const auto space = rest.find(' ');
    const auto value = parse_value(rest.substr(0, space));
    if (!value) {
        return std::string("bad value");
    }
    if (space != std::string_view::npos) {
        const auto ts = rest.substr(space + 1);
        if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos) {
            return std::string("bad timestamp");
        }
    }
    s.value = *value;
    return s;
}

/// The family a sample belongs to: histogram samples drop _bucket/_sum/_count.
inline std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            const auto base = name.substr(0, name.size() - suffix.size());
            if (auto it = types.find(base);
                it != types.end() && (it->second == "histogram" || it->second == "summary")) {
                return base;
            }
        }
    }
    return name;
}

inline std::string series_key(const exposition_sample& s, bool without_le = false) {
    std::string key = s.name;
    for (const auto& [n, v] : s.labels) {
        if (!(without_le && n == "le")) {
            key += "|" + n + "=" + v;
        }
    }
    return key;
}

}  // namespace lint_detail

/// Checks `text`; returns one message per problem (empty when the text is valid).
inline std::vector<std::string> lint_exposition(std::string_view text,
                                                std::vector<exposition_sample>* samples = nullptr) {
    using namespace lint_detail;
    std::vector<std::string> problems;
    std::map<std::string, std::string> types;
    std::set<std::string> helps, finished_families, series;
    std::string current_family;
    // Histogram state per series (without le): last cumulative count and whether +Inf came.
    std::map<std::string, std::pair<double, std::optional<double>>> buckets;
    std::map<std::string, double> counts;
    if (!text.empty() && text.back() != '\n') {
        problems.push_back("the text does not end with a newline");
    }
    std::size_t line_no = 0;
    auto enter = [&](const std::string& family, std::size_t n) {
        if (family != current_family) {
            if (finished_families.contains(family)) {
                problems.push_back("line " + std::to_string(n) + ": family " + family + " is not contiguous");
            }
            if (!current_family.empty()) {
                finished_families.insert(current_family);
            }
            current_family = family;
        }
    };
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const auto line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        const auto where = "line " + std::to_string(line_no) + ": ";
        if (line.empty()) {
            continue;
        }
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            const auto rest = line.substr(7);
            const auto space = rest.find(' ');
            const std::string name(rest.substr(0, space));
            if (name.empty() || !std::all_of(name.begin(), name.end(), [&, first = true](char c) mutable {
                    const bool ok = metric_name_char(c, first);
                    first = false;
                    return ok;
                })) {
                problems.push_back(where + "bad metric name in comment");
                continue;
            }
            enter(name, line_no);
            if (line.starts_with("# HELP ")) {
                if (!helps.insert(name).second) {
                    problems.push_back(where + "second HELP for " + name);
                }
            } else {
                const std::string type(space == std::string_view::npos ? "" : rest.substr(space + 1));
                if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
                    type != "untyped") {
                    problems.push_back(where + "unknown type '" + type + "'");
                }
                if (types.contains(name)) {
                    problems.push_back(where + "second TYPE for " + name);
                }
                types[name] = type;
            }
            continue;
        }
        if (line.starts_with("#")) {
            continue;
        }
        auto parsed = parse_sample(line);
        if (auto* p = std::get_if<std::string>(&parsed)) {
            problems.push_back(where + *p + ": " + std::string(line));
            continue;
        }
        auto& s = std::get<exposition_sample>(parsed);
        const auto family = family_of(s.name, types);
        enter(family, line_no);
        if (!series.insert(series_key(s)).second) {
            problems.push_back(where + "duplicate series " + std::string(line));
        }
        const auto type = types.contains(family) ? types[family] : "untyped";
        if (type == "counter" && (s.value < 0 || std::isnan(s.value))) {
            problems.push_back(where + "negative counter");
        }
        if (type == "histogram") {
            const auto key = series_key(s, true);
            if (s.name == family + "_bucket") {
                const auto le = std::find_if(
                    s.labels.begin(), s.labels.end(), [](const auto& l) { return l.first == "le"; });
                if (le == s.labels.end()) {
                    problems.push_back(where + "bucket without le");
                } else {
                    auto& [last, inf] = buckets[key];
                    if (s.value < last) {
                        problems.push_back(where + "buckets are not cumulative");
                    }
                    last = s.value;
                    if (le->second == "+Inf") {
                        inf = s.value;
                    }
                }
            } else if (s.name == family + "_count") {
                counts[std::string(key).replace(0, s.name.size(), family + "_bucket")] = s.value;
            } else if (s.name != family + "_sum") {
                problems.push_back(where + "unexpected histogram sample " + s.name);
            }
        }
        if (samples != nullptr) {
            samples->push_back(std::move(s));
        }
    }
    for (const auto& [key, state] : buckets) {
        if (!state.second) {
            problems.push_back("histogram series " + key + " has no le=\"+Inf\" bucket");
        } else if (auto it = counts.find(key); it == counts.end() || it->second != *state.second) {
            problems.push_back("histogram series " + key + ": _count differs from the +Inf bucket");
        }
    }
    return problems;
}

}  // namespace nhpush::test
