# Run by `cmake --install` (and by CPack, which installs into a staging tree): installs nhpushd's
# systemd units, its sysusers.d file and its config, relative to the prefix chosen at install time.
# NHPUSH_SOURCE_DIR and NHPUSH_STAGING_DIR (a scratch directory in the build tree) are set by
# daemon/CMakeLists.txt.
#
#   UNITDIR/nhpushd.{service,socket}      ExecStart and paths pointing at this install (UNITDIR is
#                                         /lib/systemd/system for the prefix /usr, as on Debian 12,
#                                         PREFIX/lib/systemd/system otherwise)
#   PREFIX/lib/sysusers.d/nhpush.conf
#   SYSCONF/nhpush/nhpushd.toml           SYSCONF is /etc for the prefix /usr, PREFIX/etc otherwise.
#
# The config depends on who owns /etc afterwards:
#   - an install onto the machine (no DESTDIR): nhpushd.toml.example always, nhpushd.toml only if
#     absent, so an operator's file is never replaced;
#   - a staged install (DESTDIR, as a package build does): nhpushd.toml always, and no .example; the
#     package manager keeps an operator's edits (the Debian package lists it as a conffile).

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(sysconf "/etc")
    set(unitdir "/lib/systemd/system")
else()
    set(sysconf "${CMAKE_INSTALL_PREFIX}/etc")
    set(unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(staging "${NHPUSH_STAGING_DIR}")
file(MAKE_DIRECTORY "${staging}")

# The unit files name the binary and the config by absolute path: point them at this install.
foreach(unit nhpushd.service nhpushd.socket)
    file(READ "${NHPUSH_SOURCE_DIR}/systemd/${unit}" text)
    string(REPLACE "/usr/bin/" "${CMAKE_INSTALL_PREFIX}/bin/" text "${text}")
    string(REPLACE "/etc/nhpush/" "${sysconf}/nhpush/" text "${text}")
    file(WRITE "${staging}/${unit}" "${text}")
    file(INSTALL "${staging}/${unit}" DESTINATION "${unitdir}")
endforeach()

configure_file("${NHPUSH_SOURCE_DIR}/systemd/nhpush.sysusers" "${staging}/nhpush.conf" COPYONLY)
file(INSTALL "${staging}/nhpush.conf" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d")

configure_file("${NHPUSH_SOURCE_DIR}/config/nhpushd.example.toml" "${staging}/nhpushd.toml" COPYONLY)
if("$ENV{DESTDIR}" STREQUAL "")
    configure_file("${NHPUSH_SOURCE_DIR}/config/nhpushd.example.toml" "${staging}/nhpushd.toml.example" COPYONLY)
    file(INSTALL "${staging}/nhpushd.toml.example" DESTINATION "${sysconf}/nhpush")
    if(NOT EXISTS "${sysconf}/nhpush/nhpushd.toml")
        file(INSTALL "${staging}/nhpushd.toml" DESTINATION "${sysconf}/nhpush")
    endif()
else()
    file(INSTALL "${staging}/nhpushd.toml" DESTINATION "${sysconf}/nhpush")
endif()
