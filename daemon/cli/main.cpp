#include "cli/cli.hpp"

#include <iostream>

int main(int argc, char** argv) {
    return nhpush::cli::run({argv + 1, argv + argc}, std::cout, std::cerr);
}
