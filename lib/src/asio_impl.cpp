// Asio, Asio.SSL and Beast are compiled once here (separate compilation keeps the build quick).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
