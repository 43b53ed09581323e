#pragma once
/** @file nhpushd's command line (pure). */

#include <span>
#include <string>
#include <string_view>

namespace nhpush::process {

/** @brief The default configuration file. */
inline constexpr std::string_view default_config_file = "/etc/nhpush/nhpushd.toml";

/** @brief What `nhpushd …` asks for. */
struct command_line {
    enum class action { run, check_config, version, help } what = action::run;
    std::string config_file{default_config_file};
};

/**
 * @brief Reads nhpushd's arguments (without the program name):
 * `--config FILE`, `--check-config`, `--version`, `--help`.
 * @throws cli::usage_error naming the argument that is wrong.
 */
command_line parse_command_line(std::span<const std::string> args);

/** @brief The `--help` text. */
std::string_view help_text() noexcept;

}  // namespace nhpush::process
