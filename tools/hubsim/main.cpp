// nhpush-hubsim: a local Notification Hubs endpoint. Everything but argument handling is in hubsim_core.

#include "hubsim/options.hpp"
#include "hubsim/server.hpp"

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
    // A client or a reader of our stdout going away must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        const auto cl = nhpush::hubsim::parse_command_line(args);
        switch (cl.what) {
            case nhpush::hubsim::command_line::action::help:
                std::cout << nhpush::hubsim::help_text();
                return 0;
            case nhpush::hubsim::command_line::action::version:
                std::cout << "nhpush-hubsim " << NHPUSH_VERSION << "\n";
                return 0;
            case nhpush::hubsim::command_line::action::run:
                return nhpush::hubsim::run_server(cl.config, std::cout);
        }
    } catch (const nhpush::hubsim::usage_error& e) {
        std::cerr << "nhpush-hubsim: " << e.what() << " (see --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "nhpush-hubsim: " << e.what() << "\n";
        return 1;
    }
    return 1;
}
