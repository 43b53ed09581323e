#pragma once
/** @file UTF-8 checking and repair for the text nhpushd writes into its JSON answers. */

#include <string>
#include <string_view>

namespace nhpush::shared {

/** @brief The Unicode replacement character U+FFFD, in UTF-8. */
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

/**
 * @brief The length of the well-formed UTF-8 sequence at the start of `s` (1 to 4), or 0 when it
 * does not start with one: a stray continuation byte, an overlong form (`C0 80`), a surrogate
 * (`ED A0 80`), a code point above U+10FFFF, or a sequence cut short. Empty `s`: 0.
 */
std::size_t utf8_sequence_length(std::string_view s) noexcept;

/** @brief True if every byte of `s` belongs to a well-formed UTF-8 sequence. */
bool is_valid_utf8(std::string_view s) noexcept;

/**
 * @brief `s` with every byte that is not part of a well-formed sequence replaced by U+FFFD; valid
 * text, multi-byte characters included, is kept byte for byte.
 */
std::string to_valid_utf8(std::string_view s);

}  // namespace nhpush::shared
