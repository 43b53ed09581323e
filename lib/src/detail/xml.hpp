#pragma once
// Just enough XML reading for the hub's small, flat answers (<Error>, <NotificationOutcome>):
// the text of an element found by local name, with the five predefined entities decoded.

#include <string>
#include <string_view>

namespace nhpush::detail {

struct xml_element {
    std::string_view inner;                    ///< raw content between the tags
    std::size_t end = std::string_view::npos;  ///< offset just past the closing tag
    bool found() const { return end != std::string_view::npos; }
};

/// Finds `<name …>…</name>` (any namespace prefix) at or after `from`.
inline xml_element find_element(std::string_view xml, std::string_view name, std::size_t from = 0) {
    for (auto pos = xml.find('<', from); pos != std::string_view::npos; pos = xml.find('<', pos + 1)) {
        auto tag_end = xml.find_first_of(" \t\r\n/>", pos + 1);
        if (tag_end == std::string_view::npos) {
            break;
        }
        auto tag = xml.substr(pos + 1, tag_end - pos - 1);
        const auto colon = tag.find(':');
        const auto local = colon == std::string_view::npos ? tag : tag.substr(colon + 1);
        if (local != name || tag.starts_with('/')) {
            continue;
        }
        const auto open_end = xml.find('>', tag_end);
        if (open_end == std::string_view::npos) {
            break;
        }
        if (xml[open_end - 1] == '/') {  // <name/>
            return {std::string_view{}, open_end + 1};
        }
        const std::string closing = "</" + std::string(tag) + ">";
        const auto close = xml.find(closing, open_end + 1);
        if (close == std::string_view::npos) {
            break;
        }
        return {xml.substr(open_end + 1, close - open_end - 1), close + closing.size()};
    }
    return {};
}

inline std::string decode_entities(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    constexpr std::pair<std::string_view, char> entities[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (std::size_t i = 0; i < text.size();) {
        bool replaced = false;
        if (text[i] == '&') {
            for (auto [entity, c] : entities) {
                if (text.substr(i).starts_with(entity)) {
                    out += c;
                    i += entity.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) {
            out += text[i++];
        }
    }
    return out;
}

inline std::string element_text(std::string_view xml, std::string_view name) {
    return decode_entities(find_element(xml, name).inner);
}

}  // namespace nhpush::detail
