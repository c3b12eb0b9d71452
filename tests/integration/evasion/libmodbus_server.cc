// A Modbus/TCP server built on Debian's libmodbus, for the evasion suite's
// second peer (tests/integration/evasion_test.sh with EVASION_SERVER).
//
// libmodbus frames a request by its function code (the bytes each function
// needs), not by the MBAP length that pymodbus frames by: the two servers
// cut a desynchronising stream at different places, so a gateway has to
// hold against both. Holding registers, coils and inputs 0-999, every unit
// id answered; several connections at once (select, as libmodbus's own
// multi-client example does). A connection whose request does not complete
// within libmodbus's byte timeout is closed.
//
// Usage: libmodbus_server ADDRESS PORT
#include <cerrno>
#include <cstdint>
#include <modbus.h>
#include <cstdio>
#include <cstdlib>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s ADDRESS PORT\n", argv[0]);
    return 2;
  }
  modbus_t* ctx = modbus_new_tcp(argv[1], atoi(argv[2]));
  modbus_mapping_t* map = modbus_mapping_new(1000, 1000, 1000, 1000);
  if (ctx == NULL || map == NULL) {
    fprintf(stderr, "libmodbus: %s\n", modbus_strerror(errno));
    return 1;
  }
  const int listener = modbus_tcp_listen(ctx, 32);
  if (listener < 0) {
    fprintf(stderr, "listen %s:%s: %s\n", argv[1], argv[2], modbus_strerror(errno));
    return 1;
  }
  printf("libmodbus %s serving %s:%s\n", LIBMODBUS_VERSION_STRING, argv[1], argv[2]);
  fflush(stdout);

  fd_set open_fds;
  FD_ZERO(&open_fds);
  FD_SET(listener, &open_fds);
  int max_fd = listener;
  uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
  for (;;) {
    fd_set ready = open_fds;
    if (select(max_fd + 1, &ready, NULL, NULL, NULL) < 0) {
      if (errno == EINTR) continue;
      perror("select");
      return 1;
    }
    for (int fd = 0; fd <= max_fd; ++fd) {
      if (!FD_ISSET(fd, &ready)) continue;
      if (fd == listener) {
        const int conn = accept(listener, NULL, NULL);
        if (conn < 0) continue;
        FD_SET(conn, &open_fds);
        if (conn > max_fd) max_fd = conn;
        continue;
      }
      modbus_set_socket(ctx, fd);
      const int n = modbus_receive(ctx, query);
      if (n > 0) {
        // Executes writes on `map` and answers, as a PLC would.
        modbus_reply(ctx, query, n, map);
      } else if (n < 0) {
        close(fd);
        FD_CLR(fd, &open_fds);
      }
    }
  }
}
