#include "api/batch_answer.hpp"

namespace nhpush::api {

using shared::write_key;
using shared::write_string;

batch_answer::batch_answer() {
    writer_.StartObject();
    write_key(writer_, "accepted");
    writer_.StartArray();
}

void batch_answer::accept(std::size_t line, std::string_view id) {
    ++accepted_;
    writer_.StartObject();
    write_key(writer_, "line");
    writer_.Uint64(line);
    write_key(writer_, "id");
    write_string(writer_, id);
    writer_.EndObject();
}

void batch_answer::reject(std::size_t line, api_error error) {
    ++rejected_;
    ++rejected_by_code_[static_cast<std::size_t>(error.code)];
    if (listed_.size() < max_listed_rejected_lines) {
        listed_.push_back({line, std::move(error)});
    }
}

std::string batch_answer::finish() {
    writer_.EndArray();
    write_key(writer_, "rejected");
    writer_.StartArray();
    for (const auto& r : listed_) {
        writer_.StartObject();
        write_key(writer_, "line");
        writer_.Uint64(r.line);
        write_key(writer_, "code");
        write_string(writer_, to_string(r.error.code));
        write_key(writer_, "message");
        write_string(writer_, r.error.message);
        write_key(writer_, "field");
        write_string(writer_, r.error.field);
        writer_.EndObject();
    }
    writer_.EndArray();
    write_key(writer_, "rejected_count");
    writer_.Uint64(rejected_);
    write_key(writer_, "rejected_by_code");
    writer_.StartObject();
    for (std::size_t code = 0; code < rejected_by_code_.size(); ++code) {
        if (rejected_by_code_[code] != 0) {
            write_key(writer_, to_string(static_cast<api_errc>(code)));
            writer_.Uint64(rejected_by_code_[code]);
        }
    }
    writer_.EndObject();
    write_key(writer_, "rejected_truncated");
    writer_.Bool(rejected_ > listed_.size());
    writer_.EndObject();
    return std::move(body_);
}

}  // namespace nhpush::api
