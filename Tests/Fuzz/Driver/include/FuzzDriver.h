#ifndef STUNSCOPE_FUZZ_DRIVER_H
#define STUNSCOPE_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer (LLVMFuzzerRunDriver) with the process arguments and
/// `callback` as LLVMFuzzerTestOneInput. SwiftPM gives every executable a
/// Swift entry point, so the targets call the driver instead of relying on
/// libFuzzer's own main.
int stunscope_fuzz_main(int argc, char **argv, int (*callback)(const uint8_t *data, size_t size));

#endif
