#pragma once
/** @file A writer of the Prometheus text exposition format (version 0.0.4), for `GET /metrics`. */

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace nhpush::metrics {

/** @brief The Content-Type of the text this writer produces. */
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

/** @brief The kinds of metric families this writer writes. */
enum class metric_type { counter, gauge, histogram };

/** @brief One label of a sample; the value is escaped when written, the name must be a valid label name. */
struct label {
    std::string_view name;
    std::string_view value;
};

/**
 * @brief A histogram's state: per-bucket counts, not cumulative.
 *
 * `counts` has one more element than `upper_bounds`: the last one counts observations above the
 * highest bound (the `+Inf` bucket). `upper_bounds` is ascending.
 */
struct histogram_data {
    std::span<const double> upper_bounds;
    std::span<const std::uint64_t> counts;
    double sum = 0;
};

/**
 * @brief Appends metric families to a string in the Prometheus text format.
 *
 * Write each family's header once (family()), then its samples. Metric and label names are the
 * caller's constants and are written as given; label values and help text are escaped.
 * The string must outlive the writer. Not thread-safe.
 */
class exposition_writer {
public:
    explicit exposition_writer(std::string& out) : out_(out) {}

    /** @brief `# HELP name help` and `# TYPE name type`. */
    void family(std::string_view name, metric_type type, std::string_view help);

    /** @brief A counter or gauge sample: `name{labels} value`. */
    void sample(std::string_view name, std::initializer_list<label> labels, double value) {
        sample(name, std::span<const label>(labels.begin(), labels.size()), value);
    }
    void sample(std::string_view name, std::span<const label> labels, double value);

    /** @brief An integer sample (counters), written exactly. */
    void sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value) {
        sample(name, std::span<const label>(labels.begin(), labels.size()), value);
    }
    void sample(std::string_view name, std::span<const label> labels, std::uint64_t value);

    /**
     * @brief A histogram's samples: cumulative `name_bucket{…,le="…"}` lines ending with `le="+Inf"`,
     * then `name_sum` and `name_count`.
     */
    void histogram(std::string_view name, std::initializer_list<label> labels, const histogram_data& data) {
        histogram(name, std::span<const label>(labels.begin(), labels.size()), data);
    }
    void histogram(std::string_view name, std::span<const label> labels, const histogram_data& data);

private:
    void write_labels(std::span<const label> labels, std::string_view le = {});
    void write_name_and_labels(std::string_view name,
                               std::string_view suffix,
                               std::span<const label> labels,
                               std::string_view le = {});

    std::string& out_;
};

/** @brief A label value escaped for the text format: `\` → `\\`, `"` → `\"`, newline → `\n`. */
std::string escape_label_value(std::string_view value);

/** @brief A sample value as the text format writes it: shortest exact form, `+Inf`, `-Inf`, `NaN`. */
std::string format_value(double value);

}  // namespace nhpush::metrics
