#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-help") == 0)) {
    std::puts("sixgate-proxy: SNI NAT46 proxy (in development)");
    return 0;
  }
  std::fputs("sixgate-proxy: not implemented yet\n", stderr);
  return 2;
}
