#include "client/terminal.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace oag::client {

std::optional<std::string> read_hidden_line(const std::string& prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  termios old{};
  const bool tty = ::tcgetattr(fd, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  (void)!::write(fd, "\n", 1);
  if (tty) ::tcsetattr(fd, TCSAFLUSH, &old);
  ::close(fd);
  return line;
}

std::string first_line(std::string text) {
  const auto nl = text.find_first_of("\r\n");
  if (nl != std::string::npos) text.resize(nl);
  return text;
}

}  // namespace oag::client
