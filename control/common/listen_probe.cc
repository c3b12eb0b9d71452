#include "common/listen_probe.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace conduit {

std::string WhyCannotListen(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return "";
  std::string host(address.substr(0, colon));
  const std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return ::gai_strerror(rc);
  }
  std::string why;
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) {
    why = std::strerror(errno);
  } else {
    const int one = 1;  // as the servers do: a socket in TIME_WAIT is no reason
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return why;
}

std::string CannotListenMessage(std::string_view field, std::string_view address) {
  std::string message = std::string(field) + ": cannot listen on " + std::string(address);
  if (const std::string why = WhyCannotListen(address); !why.empty()) message += " (" + why + ")";
  return message;
}

}  // namespace conduit
