#pragma once
// Reading nhpushd's JSON answers in tests.

#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <string>

namespace nhpush::testing {

/// The answer as a document; a parse error fails the test.
inline rapidjson::Document parse_json(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str());
    EXPECT_FALSE(d.HasParseError()) << json;
    return d;
}

/// The string at a JSON pointer, or "" when there is none.
inline std::string text_at(const rapidjson::Document& d, const char* pointer) {
    const auto* v = rapidjson::Pointer(pointer).Get(d);
    return v != nullptr && v->IsString() ? v->GetString() : std::string{};
}

inline std::string text_at(const std::string& json, const char* pointer) {
    return text_at(parse_json(json), pointer);
}

}  // namespace nhpush::testing
