// nhpushd: the nhpush submission daemon. Everything is in daemon_core; see process/nhpushd.hpp.

#include "process/nhpushd.hpp"

#include <iostream>

int main(int argc, char** argv) {
    return nhpush::process::nhpushd_main({argv + 1, argv + argc}, std::cout, std::cerr);
}
