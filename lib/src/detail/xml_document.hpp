#pragma once
// Reading XML with pugixml: payloads of the XML formats and the hub's answers.

#include <pugixml.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace nhpush::detail {

/// Parses `text` into `doc` and checks what pugixml lets pass: exactly one root element and no
/// text outside it. pugixml does not check everything XML 1.0 asks (undefined entities, duplicate
/// attributes, forbidden characters pass); what it refuses is certainly not XML.
/// @returns what is wrong and at which byte offset, or nullopt.
std::optional<std::string> parse_xml_document(std::string_view text, pugi::xml_document& doc);

/// The name of an element without its namespace prefix: `a:Error` → `Error`.
std::string_view local_name(const pugi::xml_node& node);

/// The first child element whose local name is `name`, or an empty node.
pugi::xml_node child_element(const pugi::xml_node& parent, std::string_view name);

/// The text of the first child element whose local name is `name`, entities decoded; empty if absent.
std::string child_text(const pugi::xml_node& parent, std::string_view name);

}  // namespace nhpush::detail
