#include "detail/xml_document.hpp"

#include <fmt/format.h>

namespace nhpush::detail {
namespace {

// parse_fragment keeps text at the top level as nodes, so that text outside the root is seen
// (pugixml drops it silently otherwise) and a second root element is counted.
constexpr unsigned parse_options = pugi::parse_default | pugi::parse_fragment;

std::optional<std::string> check_top_level(const pugi::xml_document& doc) {
    bool have_root = false;
    for (const auto& node : doc.children()) {
        if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
            return fmt::format("text outside the root element at byte {}", node.offset_debug());
        }
        if (node.type() == pugi::node_element) {
            if (have_root) {
                return fmt::format("a second root element <{}> at byte {}", node.name(), node.offset_debug());
            }
            have_root = true;
        }
    }
    if (!have_root) {
        return std::string("no root element");
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_xml_document(std::string_view text, pugi::xml_document& doc) {
    const auto result = doc.load_buffer(text.data(), text.size(), parse_options, pugi::encoding_auto);
    if (!result) {
        return fmt::format("{} at byte {}", result.description(), result.offset);
    }
    return check_top_level(doc);
}

std::string_view local_name(const pugi::xml_node& node) {
    std::string_view name = node.name();
    const auto colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child_element(const pugi::xml_node& parent, std::string_view name) {
    for (const auto& child : parent.children()) {
        if (child.type() == pugi::node_element && local_name(child) == name) {
            return child;
        }
    }
    return {};
}

std::string child_text(const pugi::xml_node& parent, std::string_view name) {
    return child_element(parent, name).text().get();
}

}  // namespace nhpush::detail
