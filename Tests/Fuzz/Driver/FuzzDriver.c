#include "FuzzDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

static int (*registered)(const uint8_t *data, size_t size);

/* libFuzzer's archive still references this symbol; every input goes to the
   callback the Swift entry point registered. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return registered ? registered(data, size) : 0;
}

int stunscope_fuzz_main(int argc, char **argv, int (*callback)(const uint8_t *data, size_t size)) {
    registered = callback;
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
