#pragma once
// One function per nhpush command. Each takes the remaining arguments and returns an exit code.

#include "cli/args.hpp"

#include <iosfwd>

namespace nhpush::cli {

/// Reads the connection string from --connection-string, --connection-string-file or
/// $NH_CONNECTION_STRING, in that order. @throws usage_error if none is given.
std::string read_connection_string(args& a);

int sas_token_command(args& a, std::ostream& out);
int direct_command(args& a, std::ostream& out, std::ostream& err);

}  // namespace nhpush::cli
