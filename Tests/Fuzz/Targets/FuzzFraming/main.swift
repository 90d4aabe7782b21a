import FuzzDriver
import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer driver for the `framing` target (FuzzHarness.framing). Built and run by `scripts/fuzz framing SECONDS`.
exit(stunscope_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, count in
    FuzzHarness.framing(UnsafeRawBufferPointer(start: data, count: count))
    return 0
})
