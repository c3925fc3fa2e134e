#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-help") == 0)) {
    std::puts("sixgate-agent: delegated-prefix follower (in development)");
    return 0;
  }
  std::fputs("sixgate-agent: not implemented yet\n", stderr);
  return 2;
}
