# Run by `cmake --install`: installs nhpushd's systemd units, its sysusers.d file and its config,
# relative to the prefix chosen at install time. NHPUSH_SOURCE_DIR and NHPUSH_STAGING_DIR (a
# scratch directory in the build tree) are set by daemon/CMakeLists.txt.
#
#   PREFIX/lib/systemd/system/nhpushd.{service,socket}   ExecStart and paths pointing at this install
#   PREFIX/lib/sysusers.d/nhpush.conf
#   SYSCONF/nhpush/nhpushd.toml.example                   always (SYSCONF is /etc for the prefix /usr,
#   SYSCONF/nhpush/nhpushd.toml                           PREFIX/etc otherwise); nhpushd.toml only if
#                                                         absent, so an operator's file is never replaced

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(sysconf "/etc")
else()
    set(sysconf "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(staging "${NHPUSH_STAGING_DIR}")
file(MAKE_DIRECTORY "${staging}")

# The unit files name the binary and the config by absolute path: point them at this install.
foreach(unit nhpushd.service nhpushd.socket)
    file(READ "${NHPUSH_SOURCE_DIR}/systemd/${unit}" text)
    string(REPLACE "/usr/bin/" "${CMAKE_INSTALL_PREFIX}/bin/" text "${text}")
    string(REPLACE "/etc/nhpush/" "${sysconf}/nhpush/" text "${text}")
    file(WRITE "${staging}/${unit}" "${text}")
    file(INSTALL "${staging}/${unit}" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endforeach()

configure_file("${NHPUSH_SOURCE_DIR}/systemd/nhpush.sysusers" "${staging}/nhpush.conf" COPYONLY)
file(INSTALL "${staging}/nhpush.conf" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d")

configure_file("${NHPUSH_SOURCE_DIR}/config/nhpushd.example.toml" "${staging}/nhpushd.toml.example" COPYONLY)
file(INSTALL "${staging}/nhpushd.toml.example" DESTINATION "${sysconf}/nhpush")
if(NOT EXISTS "$ENV{DESTDIR}${sysconf}/nhpush/nhpushd.toml")
    configure_file("${NHPUSH_SOURCE_DIR}/config/nhpushd.example.toml" "${staging}/nhpushd.toml" COPYONLY)
    file(INSTALL "${staging}/nhpushd.toml" DESTINATION "${sysconf}/nhpush")
endif()
