# The Debian package nhpush_VERSION_ARCH.deb, built by CPack (scripts/package): the install
# component "server" of daemon/CMakeLists.txt (nhpushd, nhpush, the units, the sysusers file, the
# config as a conffile, the docs) and the maintainer scripts in packaging/debian/.

set(NHPUSH_PACKAGE_MAINTAINER "nhpush maintainers <maintainers@users.noreply.r-seed-a0cc44a6.example>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME nhpush)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

# One package with only the "server" component: the developer tools (hubsim, bench) stay out.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL server)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # nhpush_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_NAME nhpush)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${NHPUSH_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "push notifications through Azure Notification Hubs
nhpushd takes notifications from local services over a Unix socket (HTTP/1.1
and JSON), queues them and sends them to Azure Notification Hubs over warm
HTTP/2 TLS connections, with retries and per-notification results. nhpush is
its command-line client. The daemon runs under systemd as the user nhpush,
socket-activated from /run/nhpush/nhpushd.sock.")
# Depends: the libraries' packages, from dpkg-shlibdeps, plus systemd (systemd-sysusers, the units).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS systemd)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
# 0755 for the maintainer scripts, 0644 for conffiles, whatever their mode in the checkout.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
