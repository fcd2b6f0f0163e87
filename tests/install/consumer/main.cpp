// Uses the installed headers and library: exits 0 only if both work.
#include <switchyard/switchyard.h>

#include <cstdio>
#include <string>

int main() {
  sy::DispatchKeySet keys{sy::DispatchKey::CPU, sy::DispatchKey::AutogradCPU};
  std::string text = sy::to_string(keys);
  if (text != "{AutogradCPU, CPU}") {
    std::fprintf(stderr, "unexpected key set: %s\n", text.c_str());
    return 1;
  }
  std::printf("installed switchyard works: %s\n", text.c_str());
  return 0;
}
