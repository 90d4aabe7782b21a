import FuzzDriver
import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer driver for the `packets` target (FuzzHarness.packets). Built and run by `scripts/fuzz packets SECONDS`.
exit(stunscope_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, count in
    FuzzHarness.packets(UnsafeRawBufferPointer(start: data, count: count))
    return 0
})
